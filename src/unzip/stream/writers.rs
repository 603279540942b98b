//! The writing side of a streaming extraction: each entry's file created and filled
//! from the pieces the reading thread hands over.
//!
//! # Who writes, and why nothing waits forever
//!
//! The reading thread parses the stream and submits one [`Job`] per file, in stream
//! order, then sends it the entry's bytes as they arrive. Writer threads of the
//! extraction's own take jobs from one board, oldest first, whatever their state: a
//! writer that takes the entry still arriving waits for its next piece. The first
//! writer starts with the extraction; more start while jobs queue up, up to one per
//! core, so entries are decoded several at once when the stream outruns one writer.
//!
//! Not rayon's pool: a writer may wait on the network (the entry still arriving),
//! which must never block a pool thread that others' jobs need, and the extraction
//! must not depend on a pool whose threads may all be blocked (waiting for this very
//! extraction, through a cache).
//!
//! The reading thread waits only for a free block of the pool (`blocks.rs`). Every
//! block in use belongs to a job's pieces or to the reading thread itself. Every job
//! but the newest is complete (the reading thread finished it before starting the
//! next), so the writers, taking jobs in order, finish each of them without the
//! reading thread, dropping their pieces and freeing their blocks, until one reaches
//! the newest job, which it drains as the reading thread fills it. So a block always
//! comes back: the extraction finishes on the reading thread and one writer alone.
//!
//! Files are created relative to the staging directory's handle, never following a
//! link, with `O_EXCL`; the error reported is the lowest failing entry's
//! ([`Failures`]).

use std::collections::VecDeque;
use std::fs::File;
use std::io::Write;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::Arc;
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
}

/// The jobs not taken yet.
struct Board {
    queue: VecDeque<Job>,
    /// No more jobs will come.
    closed: bool,
    /// Writer threads waiting for a job.
    idle: usize,
    /// Writer threads started.
    started: usize,
}

/// What the writers and the reading thread share.
struct Shared {
    root: Dir,
    needs_chmod: bool,
    durable: bool,
    failures: Failures,
    tracker: Tracker,
    board: Mutex<Board>,
    /// Signalled when a job is submitted and when the board closes.
    changed: Condvar,
    most_writers: usize,
}

/// The writers of one streaming extraction.
pub(crate) struct Writers {
    shared: Arc<Shared>,
    threads: Vec<JoinHandle<()>>,
}

impl Writers {
    /// Starts the first writer thread, for files under `root`.
    pub(crate) fn start(
        root: Dir,
        needs_chmod: bool,
        durable: bool,
        tracker: Tracker,
    ) -> Result<Writers, UnzipError> {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        let shared = Arc::new(Shared {
            root,
            needs_chmod,
            durable,
            failures: Failures::new(),
            tracker,
            board: Mutex::new(Board {
                queue: VecDeque::new(),
                closed: false,
                idle: 0,
                started: 0,
            }),
            changed: Condvar::new(),
            most_writers: cores.clamp(1, MOST_WRITERS),
        });
        let mut writers = Writers {
            shared,
            threads: Vec::new(),
        };
        writers.shared.board.lock().started = 1;
        writers.spawn()?;
        Ok(writers)
    }

    fn spawn(&mut self) -> Result<(), UnzipError> {
        let shared = Arc::clone(&self.shared);
        let thread = std::thread::Builder::new()
            .name("inflight-stream-writer".into())
            .spawn(move || shared.write_in_order())
            .map_err(UnzipError::write(Path::new("<writer thread>")))?;
        self.threads.push(thread);
        Ok(())
    }

    /// Hands a job to the writers, starting one more if every writer is busy.
    pub(crate) fn submit(&mut self, job: Job) -> Result<(), UnzipError> {
        let (more, idle) = {
            let mut board = self.shared.board.lock();
            board.queue.push_back(job);
            let more = board.idle == 0 && board.started < self.shared.most_writers;
            if more {
                board.started += 1;
            }
            (more, board.idle > 0)
        };
        // No lost wake-up: a writer checks the queue and counts itself idle under the
        // board's lock, so one that is about to wait is already counted.
        if idle {
            self.shared.changed.notify_one();
        }
        if more {
            self.spawn()?;
        }
        Ok(())
    }

    /// A file of `bytes` bytes is on its way: the progress totals grow.
    pub(crate) fn grow(&self, bytes: u64) {
        self.shared.tracker.grow(bytes);
    }

    /// Whether an entry failed: the reading thread stops.
    pub(crate) fn failed(&self) -> bool {
        self.shared.failures.lowest().is_some()
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
        for thread in self.threads.drain(..) {
            // A writer catches the panics of its jobs; a panic of its own would be a
            // bug in this file, reported as one.
            if let Err(payload) = thread.join() {
                self.shared.failures.panicked(payload);
            }
        }
    }
}

/// The most writer threads one streaming extraction starts.
const MOST_WRITERS: usize = 8;

impl Drop for Writers {
    /// An early return or a panic of the reading thread: nothing may write into the
    /// staging directory once it is being removed.
    fn drop(&mut self) {
        self.shared.failures.cancel_all();
        self.stop();
    }
}

impl Shared {
    /// A writer thread: the oldest job, until the board is closed and empty.
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
                    board.idle += 1;
                    self.changed.wait(&mut board);
                    board.idle -= 1;
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
            let written = self.write(&job)?;
            self.tracker.file_done(written);
            Ok(())
        }));
        match result {
            Ok(Ok(()) | Err(Stop::Cancelled)) => {}
            Ok(Err(Stop::Failed(error))) => self.failures.fail(index, error),
            Err(payload) => self.failures.panicked(payload),
        }
    }

    /// Writes the job's file; returns how many bytes it holds. Only those count as
    /// done: the size of a [`Content::Plain`] job is its local header's, which nothing
    /// checked yet (a streaming writer leaves zeros there; a hostile one anything).
    fn write(&self, job: &Job) -> Result<u64, Stop> {
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
        let written = match job.content {
            Content::Encoded => {
                // Checked: exactly the declared size.
                decode::write_pieces(entry, &job.pieces, &cancelled, &mut file, &path)?;
                entry.size
            }
            Content::Plain => write_plain(&job.pieces, &cancelled, &mut file, &path)?,
        };
        if self.durable {
            file.sync_data().map_err(write_err)?;
        }
        Ok(written)
    }
}

/// Writes pieces as they come, until the reading thread has sent the last one;
/// returns how many bytes they held.
fn write_plain(
    pieces: &Receiver<Slice>,
    cancelled: &dyn Fn() -> bool,
    file: &mut File,
    path: &std::path::Path,
) -> Result<u64, Stop> {
    let mut written = 0u64;
    for piece in pieces {
        if cancelled() {
            return Err(Stop::Cancelled);
        }
        file.write_all(&piece)
            .map_err(|e| Stop::Failed(UnzipError::write(path)(e)))?;
        written += piece.len() as u64;
    }
    Ok(written)
}
