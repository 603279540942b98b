//! The writing side of a streaming extraction: each entry's file created and filled
//! from the pieces the reading thread hands over.
//!
//! # Who writes, and why nothing waits forever
//!
//! The reading thread parses the stream and submits one [`Job`] per file, in stream
//! order, then sends it the entry's bytes as they arrive. Two kinds of thread take
//! jobs from one board:
//!
//! - **the writer**, a thread of its own for this extraction, takes the oldest job,
//!   whatever its state, and follows the stream: it waits for the next piece of that
//!   entry if it has not arrived yet;
//! - **helpers**, spawned on the rayon pool, take only jobs whose every piece has
//!   arrived, so no pool thread ever waits on the network; they make a fast stream
//!   faster (decoding several entries at once) and are never needed.
//!
//! The reading thread waits only for a free block of the pool (`blocks.rs`). Every
//! block in use belongs to a job's pieces or to the reading thread itself. Every job
//! but the current one is complete (the reading thread finished it before starting
//! the next), so the writer, taking jobs in order, finishes each of them without the
//! reading thread, dropping their pieces and freeing their blocks, until it reaches
//! the current job, which it drains as the reading thread fills it. So a block always
//! comes back, whatever the pool does: the extraction finishes on the reading thread
//! and the writer alone.
//!
//! Files are created relative to the staging directory's handle, never following a
//! link, with `O_EXCL`; the error reported is the lowest failing entry's
//! ([`Failures`]).

use std::collections::VecDeque;
use std::fs::File;
use std::io::Write;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::thread::JoinHandle;

use crossbeam_channel::Receiver;
use parking_lot::{Condvar, Mutex};

use super::blocks::Slice;
use crate::fs::Dir;
use crate::unzip::UnzipError;
use crate::unzip::decode::{self, Stop};
use crate::unzip::failures::Failures;
use crate::unzip::plan::FileEntry;
use crate::unzip::platform;
use crate::unzip::progress::Tracker;

/// What the pieces of a job are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Content {
    /// The entry's compressed bytes, exactly `entry.compressed_size` of them: decoded
    /// here and checked against the entry's size and CRC-32.
    Encoded,
    /// Bytes the reading thread decoded and checks itself (an entry whose end only
    /// its stream knows): written as they come.
    Plain,
}

/// One file to write.
pub(crate) struct Job {
    pub(crate) entry: FileEntry,
    pub(crate) content: Content,
    pub(crate) pieces: Receiver<Slice>,
    /// Set by the reading thread once it has sent every piece.
    pub(crate) complete: Arc<AtomicBool>,
}

/// The jobs not taken yet.
struct Board {
    queue: VecDeque<Job>,
    /// No more jobs will come.
    closed: bool,
    helpers: usize,
}

/// What the writer, the helpers and the reading thread share.
struct Shared {
    root: Dir,
    needs_chmod: bool,
    durable: bool,
    failures: Failures,
    tracker: Tracker,
    board: Mutex<Board>,
    /// Signalled when a job is submitted or completed, and when the board closes.
    changed: Condvar,
    /// Signalled when the last helper leaves.
    helpers_gone: Condvar,
    most_helpers: usize,
    pool: Option<Arc<rayon::ThreadPool>>,
}

/// The writers of one streaming extraction.
pub(crate) struct Writers {
    shared: Arc<Shared>,
    writer: Option<JoinHandle<()>>,
}

impl Writers {
    /// Starts the writer thread for files under `root`.
    pub(crate) fn start(
        root: Dir,
        needs_chmod: bool,
        durable: bool,
        pool: Option<Arc<rayon::ThreadPool>>,
        tracker: Tracker,
    ) -> Result<Writers, UnzipError> {
        let threads = pool
            .as_ref()
            .map_or_else(rayon::current_num_threads, |p| p.current_num_threads());
        let shared = Arc::new(Shared {
            root,
            needs_chmod,
            durable,
            failures: Failures::new(),
            tracker,
            board: Mutex::new(Board {
                queue: VecDeque::new(),
                closed: false,
                helpers: 0,
            }),
            changed: Condvar::new(),
            helpers_gone: Condvar::new(),
            // The writer thread already takes one core's worth of jobs.
            most_helpers: threads.saturating_sub(1).max(1),
            pool,
        });
        let writer = {
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name("inflight-stream-writer".into())
                .spawn(move || shared.write_in_order())
                .map_err(UnzipError::write(Path::new("<writer thread>")))?
        };
        Ok(Writers {
            shared,
            writer: Some(writer),
        })
    }

    /// Hands a job to the writers.
    pub(crate) fn submit(&self, job: Job) {
        self.shared.board.lock().queue.push_back(job);
        // No lost wake-up: the writer checks the queue and waits under this lock.
        self.shared.changed.notify_all();
    }

    /// Tells the writers that every piece of a job was sent: a helper may take it.
    pub(crate) fn completed(&self, complete: &AtomicBool) {
        complete.store(true, Ordering::Release);
        let mut board = self.shared.board.lock();
        let waiting = board
            .queue
            .iter()
            .skip(1)
            .any(|job| job.complete.load(Ordering::Acquire));
        if waiting && board.helpers < self.shared.most_helpers {
            board.helpers += 1;
            drop(board);
            let weak = Arc::downgrade(&self.shared);
            match &self.shared.pool {
                Some(pool) => pool.spawn(move || help(&weak)),
                None => rayon::spawn(move || help(&weak)),
            }
        }
    }

    /// The lowest index of an entry that failed so far: the reading thread stops
    /// there.
    pub(crate) fn failed(&self) -> bool {
        self.shared.failures.lowest().is_some()
    }

    /// Whether a failure makes entry `index` pointless.
    pub(crate) fn should_stop(&self, index: usize) -> bool {
        self.shared.failures.should_stop(index)
    }

    /// Records a failure of the reading thread at entry `index`.
    pub(crate) fn fail(&self, index: usize, error: UnzipError) {
        self.shared.failures.fail(index, error);
    }

    /// Closes the board, waits for every writer, and returns the verdict: the first
    /// panic resumed, or the lowest failing entry's error.
    pub(crate) fn finish(mut self) -> Result<(), UnzipError> {
        self.stop();
        self.shared.failures.verdict()
    }

    fn stop(&mut self) {
        self.shared.board.lock().closed = true;
        self.shared.changed.notify_all();
        if let Some(writer) = self.writer.take() {
            // The writer catches the panics of its jobs; a panic of its own would be
            // a bug in this file, reported as one.
            if let Err(payload) = writer.join() {
                self.shared.failures.panicked(payload);
            }
        }
        let mut board = self.shared.board.lock();
        while board.helpers > 0 {
            self.shared.helpers_gone.wait(&mut board);
        }
    }
}

impl Drop for Writers {
    /// An early return or a panic of the reading thread: nothing may write into the
    /// staging directory once it is being removed.
    fn drop(&mut self) {
        self.shared.failures.cancel_all();
        self.stop();
    }
}

/// A helper: takes complete jobs until there are none.
fn help(weak: &Weak<Shared>) {
    let Some(shared) = weak.upgrade() else {
        return;
    };
    loop {
        let job = {
            let mut board = shared.board.lock();
            // The oldest job is the writer's, complete or not.
            let at = board
                .queue
                .iter()
                .skip(1)
                .position(|job| job.complete.load(Ordering::Acquire));
            match at {
                Some(at) => board.queue.remove(at + 1),
                None => {
                    board.helpers -= 1;
                    if board.helpers == 0 {
                        shared.helpers_gone.notify_all();
                    }
                    return;
                }
            }
        };
        if let Some(job) = job {
            shared.run(job);
        }
    }
}

impl Shared {
    /// The writer thread: the oldest job, until the board is closed and empty.
    fn write_in_order(&self) {
        loop {
            let job = {
                let mut board = self.board.lock();
                loop {
                    if let Some(job) = board.queue.pop_front() {
                        break job;
                    }
                    if board.closed {
                        return;
                    }
                    self.changed.wait(&mut board);
                }
            };
            self.run(job);
        }
    }

    /// Writes one job, recording its failure or panic.
    fn run(&self, job: Job) {
        let index = job.entry.index;
        if self.failures.should_stop(index) {
            return;
        }
        let result = catch_unwind(AssertUnwindSafe(|| {
            let result = self.write(&job);
            if result.is_ok() {
                self.tracker.file_done(job.entry.size);
            }
            result
        }));
        match result {
            Ok(Ok(()) | Err(Stop::Cancelled)) => {}
            Ok(Err(Stop::Failed(error))) => self.failures.fail(index, error),
            Err(payload) => self.failures.panicked(payload),
        }
    }

    fn write(&self, job: &Job) -> Result<(), Stop> {
        let entry = &job.entry;
        let path: PathBuf = self.root.path().join(&entry.path);
        let write_err = |source| Stop::Failed(UnzipError::write(&path)(source));
        // Modes come from the central directory, read at the end; until then 0o644.
        let mode = platform::file_mode(false);
        let mut file = self
            .root
            .create_file_beneath(&entry.path, mode)
            .map_err(write_err)?;
        if self.needs_chmod {
            platform::set_file_mode(&file, mode).map_err(write_err)?;
        }
        let cancelled = || self.failures.should_stop(entry.index);
        match job.content {
            Content::Encoded => {
                decode::write_pieces(entry, &job.pieces, &cancelled, &mut file, &path)?;
            }
            Content::Plain => write_plain(&job.pieces, &cancelled, &mut file, &path)?,
        }
        if self.durable {
            file.sync_data().map_err(write_err)?;
        }
        Ok(())
    }
}

/// Writes pieces as they come, until the reading thread has sent the last one.
fn write_plain(
    pieces: &Receiver<Slice>,
    cancelled: &dyn Fn() -> bool,
    file: &mut File,
    path: &std::path::Path,
) -> Result<(), Stop> {
    for piece in pieces {
        if cancelled() {
            return Err(Stop::Cancelled);
        }
        file.write_all(&piece)
            .map_err(|e| Stop::Failed(UnzipError::write(path)(e)))?;
    }
    Ok(())
}
