//! The execute phase: create the directories, then write the files in parallel.
//!
//! # Who writes the files, and why no caller can deadlock
//!
//! The thread that called `unzip` (the *owner*) writes files itself, taking them one
//! at a time from a shared board in plan order (largest first), and spawns helper jobs
//! on the rayon pool that take files from the same board. The owner never enters
//! rayon's scheduler (no `join`, `scope` or `install`). Hence:
//!
//! 1. **No re-entry.** The owner never runs an unrelated queued job while it
//!    extracts. Had it waited inside a rayon scope, as it used to, a rayon worker that
//!    owns an `UnzipCache` flight could pick up a second request for the same id on
//!    its own stack, which the map can only answer with `WouldDeadlock` (rayon issue
//!    #1251 is the same trap with `OnceLock`, where it hangs).
//! 2. **No waiting on queued work.** At the end the owner waits only for helpers that
//!    have taken a file and are writing it. A file job blocks on nothing but the file
//!    system: it takes no lock a caller can hold and calls into no pool. (The one
//!    piece of user code in a job, the progress callback, must not wait for an
//!    extraction; `Unzipper::progress` says so.)
//!
//! So an extraction finishes on its owner thread alone, whatever the pool is doing:
//! every worker busy with other jobs, or blocked waiting for this very extraction (an
//! `UnzipCache` request for the same id), or the owner being the pool's only worker.
//! Helpers only make it faster when workers are free. A helper that starts after the
//! board is empty finds nothing and returns; until it starts it holds only a `Weak`
//! handle, so a late helper keeps neither the archive open nor any memory alive.
//!
//! # Invariants
//!
//! - Workers (the owner and its helpers) read the shared [`Context`]: the plan's files,
//!   the archive `File` (positional reads only), the staging path. They change only
//!   the board (behind its mutex: the next file, the helpers at work), the
//!   [`Failures`], and the progress counters.
//! - A worker writes exactly one path per file it takes, its entry's, created with
//!   `O_CREAT|O_EXCL` relative to the staging directory's handle, with no link
//!   followed in any component (`crate::fs`), so it never writes through a link
//!   (one swapped in for a directory of the tree while it is written included) or
//!   touches another entry's file.
//! - The error returned is the one of the lowest failing entry index, whatever the
//!   timing: an entry is skipped (or abandoned between buffers) only once an entry with
//!   a *lower* index has failed, so every entry below the final lowest failure has run
//!   to completion and succeeded.
//! - When the owner returns, no worker touches the staging directory any more: it has
//!   taken every file, and every helper that took one has left the board.

use std::fs::File;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::sync::{Arc, Weak};

use parking_lot::{Condvar, Mutex};

use super::decode::{self, Source, Stop};
use super::error::UnzipError;
use super::failures::Failures;
use super::plan::{FileEntry, Plan};
use super::platform;
use super::progress::Tracker;
use crate::fs::Dir;

/// Which file is next, and how many helpers are taking files.
struct Board {
    next: usize,
    helpers_at_work: usize,
}

/// What the owner and its helpers share. It owns everything it holds, so a helper
/// job is `'static`, as `rayon::spawn` requires.
struct Context {
    files: Vec<FileEntry>,
    archive_file: File,
    archive: PathBuf,
    root: Dir,
    needs_chmod: bool,
    durable: bool,
    in_memory_limit: usize,
    tracker: Tracker,
    failures: Failures,
    board: Mutex<Board>,
    /// Signalled when the last helper at work leaves the board.
    helpers_gone: Condvar,
}

/// The file jobs of one extraction: what [`write_files`] needs, by value.
pub(crate) struct FileJobs {
    pub(crate) files: Vec<FileEntry>,
    pub(crate) archive_file: File,
    pub(crate) archive: PathBuf,
    /// The directory the files go under (a handle: nothing is resolved by path).
    pub(crate) root: Dir,
    pub(crate) needs_chmod: bool,
    /// Flush each file's data to the device before reporting it done.
    pub(crate) durable: bool,
    /// Largest entry (compressed + uncompressed bytes) a worker decodes in memory.
    pub(crate) in_memory_limit: usize,
    pub(crate) tracker: Tracker,
}

/// Creates every directory of the plan under `root`, parents first, and returns
/// whether files need an explicit mode: `needs_chmod` if the caller knows (it created
/// `root` with 0o755 and saw what the umask left), else what the first directory
/// created here shows (no directory: assume so, a `chmod` per file of a flat archive).
///
/// Sequential on purpose: directories are few next to files (a wheel has about one
/// per ten files), `mkdir` on one parent serialises on that parent's inode lock in
/// the kernel anyway, and creating them all up front lets each file job do a single
/// `open` instead of a `create_dir_all` that would `stat` every ancestor and race
/// with its siblings. Each `mkdir` is relative to its parent, reached from `root`
/// without following a link.
pub(crate) fn create_dirs(
    plan: &Plan,
    root: &Dir,
    needs_chmod: Option<bool>,
) -> Result<bool, UnzipError> {
    let mut needs_chmod = needs_chmod;
    for dir in plan.dirs.paths() {
        let path = root.path().join(&dir);
        let exact = needs_chmod.unwrap_or(false);
        root.make_dir_beneath(&dir, exact)
            .map_err(UnzipError::write(&path))?;
        if needs_chmod.is_none() {
            let made = root
                .open_dir_beneath(&dir)
                .map_err(UnzipError::write(&path))?;
            let strips = made.permissions().map_err(UnzipError::write(&path))? & 0o777 != 0o755;
            if strips {
                made.set_dir_mode().map_err(UnzipError::write(&path))?;
            }
            needs_chmod = Some(strips);
        }
    }
    Ok(needs_chmod.unwrap_or(true))
}

/// Writes every file of `jobs`, on the calling thread and on helpers spawned on `pool`
/// (the current rayon pool when `None`); see the module docs for why this cannot
/// deadlock whatever thread calls it.
///
/// # Parallelism
///
/// Files are taken in plan order (largest first) by whichever worker is free: greedy
/// longest-first list scheduling, within 4/3 of the best makespan, so one big entry
/// never waits behind small ones. Taking a file costs one uncontended lock (tens of
/// nanoseconds), nothing next to the `open` + `write` + `close` (several
/// microseconds) of even an empty file. One helper is spawned per pool thread,
/// besides the owner, and never more than there are files for them: on an idle pool
/// the owner and the workers together keep every core busy; on a busy pool the
/// helpers start late or not at all and the owner carries on.
///
/// # Panics
///
/// Resumes a panic of the progress callback (or of a file job) once no worker is
/// writing any more.
pub(crate) fn write_files(
    jobs: FileJobs,
    pool: Option<&rayon::ThreadPool>,
) -> Result<(), UnzipError> {
    let threads = pool.map_or_else(rayon::current_num_threads, |p| p.current_num_threads());
    let helpers = threads.min(jobs.files.len().saturating_sub(1));
    let ctx = Arc::new(Context {
        files: jobs.files,
        archive_file: jobs.archive_file,
        archive: jobs.archive,
        root: jobs.root,
        needs_chmod: jobs.needs_chmod,
        durable: jobs.durable,
        in_memory_limit: jobs.in_memory_limit,
        tracker: jobs.tracker,
        failures: Failures::new(),
        board: Mutex::new(Board {
            next: 0,
            helpers_at_work: 0,
        }),
        helpers_gone: Condvar::new(),
    });
    for _ in 0..helpers {
        let weak = Arc::downgrade(&ctx);
        match pool {
            Some(pool) => pool.spawn(move || help(&weak)),
            None => rayon::spawn(move || help(&weak)),
        }
    }
    ctx.take_files();
    // Every file is taken. Wait for the helpers still writing one; a helper that has
    // not come to the board yet will find it empty and write nothing.
    let mut board = ctx.board.lock();
    while board.helpers_at_work > 0 {
        ctx.helpers_gone.wait(&mut board);
    }
    drop(board);
    ctx.failures.verdict()
}

/// A helper job: takes files until none is left, unless the extraction is already over.
fn help(weak: &Weak<Context>) {
    let Some(ctx) = weak.upgrade() else {
        return;
    };
    ctx.board.lock().helpers_at_work += 1;
    ctx.take_files();
    let mut board = ctx.board.lock();
    board.helpers_at_work -= 1;
    // No lost wake-up: the owner checks `helpers_at_work` and waits under this same
    // lock, so it either sees the decrement or is already waiting when we notify.
    if board.helpers_at_work == 0 {
        ctx.helpers_gone.notify_all();
    }
}

impl Context {
    /// The next file nobody has taken yet.
    fn take(&self) -> Option<&FileEntry> {
        let mut board = self.board.lock();
        let entry = self.files.get(board.next)?;
        board.next += 1;
        Some(entry)
    }

    /// Writes files until the board is empty. Never unwinds: a panic is recorded in
    /// the failures (and cancels the rest), to be resumed by the owner.
    fn take_files(&self) {
        while let Some(entry) = self.take() {
            if self.failures.should_stop(entry.index) {
                continue;
            }
            let result = catch_unwind(AssertUnwindSafe(|| {
                let result = write_entry(self, entry);
                if result.is_ok() {
                    self.tracker.file_done(entry.size);
                }
                result
            }));
            match result {
                Ok(Ok(()) | Err(Stop::Cancelled)) => {}
                Ok(Err(Stop::Failed(error))) => self.failures.fail(entry.index, error),
                Err(payload) => self.failures.panicked(payload),
            }
        }
    }
}

/// Creates one file and fills it with its entry's checked content.
fn write_entry(ctx: &Context, entry: &FileEntry) -> Result<(), Stop> {
    let path = ctx.root.path().join(&entry.path);
    let mode = platform::file_mode(entry.executable);
    let write_err = |path: &PathBuf, source| Stop::Failed(UnzipError::write(path)(source));
    let mut out = ctx
        .root
        .create_file_beneath(&entry.path, mode)
        .map_err(|e| write_err(&path, e))?;
    if ctx.needs_chmod {
        platform::set_file_mode(&out, mode).map_err(|e| write_err(&path, e))?;
    }
    let cancelled = || ctx.failures.should_stop(entry.index);
    let source = Source {
        file: &ctx.archive_file,
        archive: &ctx.archive,
        cancelled: &cancelled,
    };
    decode::write_content(entry, &source, &mut out, &path, ctx.in_memory_limit)?;
    if ctx.durable {
        // Durable mode: the data must be on the device before the directory that
        // holds it can be renamed into place. `fdatasync` also covers the file size.
        out.sync_data().map_err(|e| write_err(&path, e))?;
    }
    Ok(())
}
