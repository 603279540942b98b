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
//! A large entry ([`LARGE`] bytes decoded or more) gets a thread of its own when it is
//! submitted, at most twice as many at a time as writers in order (the rest queue up
//! like any file, and so does one whose thread cannot be started), so it starts
//! decoding as its first bytes arrive instead of after every file before it; its file
//! is written by one more thread while it decodes (`decode::write_pieces_relayed`).
//! While such an entry has bytes in hand to decode, the writers in order leave it a
//! core: they take no new job while the busy ones and those entries already fill
//! every core ([`Board::yields`]). The seekable path starts its largest files first
//! for the same reason. Yielding never waits on the reading thread: an entry holds
//! the writers back only while it has bytes in hand, which it decodes without
//! anyone's help; it stops the moment it waits for more (its thread says so before
//! it waits, and wakes the writers), and nobody is held back while the reading thread
//! waits for a block (the pool says so), so the writers free blocks for it then. A
//! large entry's thread wakes the writers when it ends (on unwinding too), and is
//! joined by the next one's start, so finished threads do not pile up.
//!
//! The reading thread waits only for a free block of the pool (`blocks.rs`), and
//! for room in the queue when [`QUEUED_MAX`] files wait for a writer in order. Every
//! block in use belongs to a job's pieces or to the reading thread itself. Every job
//! but the newest is complete (the reading thread finished it before starting the
//! next), so the writers, taking jobs in order, finish each of them without the
//! reading thread, dropping their pieces and freeing their blocks, until one reaches
//! the newest job, which it drains as the reading thread fills it; a large entry's
//! own thread drains it the same way, and holds no writer back while it waits for the
//! reading thread or while the reading thread waits for a block. So a block always
//! comes back. The reading thread waits for room before it adds a job, when every
//! job queued is complete: the writers take them without it, and wake it as they do
//! (nobody is held back meanwhile). So room always comes.
//!
//! `shuttle-tests/tests/stream.rs` runs these threads as they ship (on shuttle's
//! primitives, `sync::stream`) over a pool of 4 blocks of 256 bytes and a queue of
//! 2 files: every schedule it samples ends, with every file written or the lowest
//! failure reported.
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

use super::blocks::Slice;
use crate::fs::Dir;
use crate::sync::stream::{self as sync, Condvar, JoinHandle, Mutex, Receiver, TryRecvError};
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
    pub(crate) pieces: Pieces,
}

/// How a job's bytes reach its writer.
pub(crate) enum Pieces {
    /// All of them were in hand when the job was submitted: one slice of a block, or
    /// none for an empty entry. Most files of a wheel: a few KiB, inside the block the
    /// reading thread is at. No channel: a channel and its first block of slots cost
    /// about 1.5 KiB per file waiting for a writer.
    Ready(Option<Slice>),
    /// Sent one by one as they arrive, until the reading thread drops its sender.
    Arriving(Receiver<Slice>),
}

impl Pieces {
    /// The pieces, in order: a ready slice (shared with the job, which frees it when
    /// dropped), or each piece as it arrives.
    fn iter(&self) -> impl Iterator<Item = Slice> + '_ {
        let (ready, arriving) = match self {
            Pieces::Ready(slice) => (slice.clone(), None),
            Pieces::Arriving(pieces) => (None, Some(pieces)),
        };
        ready
            .into_iter()
            .chain(arriving.into_iter().flat_map(|pieces| pieces.into_iter()))
    }

    /// The pieces as a channel (a ready slice sent on a new one, already closed), for
    /// a large entry's thread, which watches whether it has bytes in hand.
    fn into_channel(self) -> Receiver<Slice> {
        match self {
            Pieces::Arriving(pieces) => pieces,
            Pieces::Ready(slice) => {
                let (sender, pieces) = sync::unbounded();
                if let Some(slice) = slice {
                    // Cannot fail: the receiver is here.
                    let _ = sender.send(slice);
                }
                pieces
            }
        }
    }
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
    /// Writers taking jobs in order that are writing one now.
    busy: usize,
    /// The large entries being written by threads of their own (see
    /// [`Writers::submit`]).
    large: Vec<Large>,
    /// The reading thread waits for a free block, or for room in the queue.
    reader_waits: bool,
    /// The reading thread waits for room in the queue ([`QUEUED_MAX`]).
    room_wanted: bool,
}

/// A large entry on a thread of its own.
#[derive(Debug, Clone, Copy)]
struct Large {
    index: usize,
    /// Its thread has bytes in hand to decode, rather than waiting for the reading
    /// thread's next piece.
    has_work: bool,
}

impl Board {
    /// Whether a writer taking jobs in order should leave the next one for now: large
    /// entries with bytes in hand are being decoded, and with the busy writers they
    /// already keep every core working.
    ///
    /// Never a wait for the reading thread: such an entry decodes what it has without
    /// anyone's help, and its thread wakes the writers before it waits for more bytes
    /// or when it ends. An entry waiting for bytes holds nobody back (a slow download
    /// would idle every core), and nobody is held back while the reading thread waits
    /// for a block, since only the writers' progress frees blocks then.
    fn yields(&self, cores: usize) -> bool {
        if self.reader_waits {
            return false;
        }
        let working = self.large.iter().filter(|large| large.has_work).count();
        working > 0 && self.busy + working >= cores
    }

    /// Whether a writer held back may take a job now.
    fn may_wake(&self, cores: usize) -> bool {
        self.idle > 0 && !self.queue.is_empty() && !self.yields(cores)
    }
}

/// What the writers and the reading thread share.
struct Shared {
    root: Dir,
    needs_chmod: bool,
    durable: bool,
    failures: Failures,
    tracker: Tracker,
    board: Mutex<Board>,
    /// Signalled when a job is submitted, when a large entry's own thread ends or
    /// waits for bytes, when the reading thread waits for a block, when a writer in
    /// order panics, and when the board closes.
    changed: Condvar,
    /// Signalled, while the reading thread waits for room in the queue, when a writer
    /// takes a job from it.
    room: Condvar,
    most_writers: usize,
    /// The cores there are: what [`Board::yields`] fills.
    cores: usize,
}

/// The writers of one streaming extraction.
pub(crate) struct Writers {
    shared: Arc<Shared>,
    threads: Vec<JoinHandle<()>>,
}

impl Writers {
    /// Starts the first writer thread, for files under `root`, scheduling for `cores`
    /// cores (the machine's, unless a test says otherwise).
    pub(crate) fn start(
        root: Dir,
        needs_chmod: bool,
        durable: bool,
        tracker: Tracker,
        cores: Option<usize>,
    ) -> Result<Writers, UnzipError> {
        let cores = cores.unwrap_or_else(sync::cores);
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
                busy: 0,
                large: Vec::new(),
                reader_waits: false,
                room_wanted: false,
            }),
            changed: Condvar::new(),
            room: Condvar::new(),
            most_writers: cores.clamp(1, MOST_WRITERS),
            cores: cores.max(1),
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
        let thread = sync::Builder::new()
            .name("inflight-stream-writer".into())
            .spawn(move || shared.write_in_order())
            .map_err(UnzipError::write(Path::new("<writer thread>")))?;
        self.threads.push(thread);
        Ok(())
    }

    /// Hands a job to the writers, starting one more if every writer is busy.
    ///
    /// A large entry ([`LARGE`] bytes decoded or more) gets a thread of its own at
    /// once (at most twice as many at a time as writers in order, which bounds the
    /// decoders' memory; or it queues up like any file), and while it has bytes in
    /// hand the writers in order leave it a core ([`Board::yields`]). Decoding it is
    /// the longest chain of the extraction: in stream order it would start only once
    /// every file before it was written, and with a fair share of the cores it would
    /// finish alone, long after the rest. The seekable path starts its largest files
    /// first for the same reason.
    pub(crate) fn submit(&mut self, mut job: Job) -> Result<(), UnzipError> {
        let large = job.content == Content::Encoded && job.entry.size >= LARGE;
        if large {
            // Its own thread watches whether it has bytes in hand, on a channel.
            job.pieces = Pieces::Arriving(job.pieces.into_channel());
        }
        let mut board = self.shared.board.lock();
        let job = if large && board.large.len() < 2 * self.shared.most_writers {
            board.large.push(Large {
                index: job.entry.index,
                has_work: false,
            });
            drop(board);
            match self.spawn_for(job) {
                None => return Ok(()),
                // No thread (a process limit, say): the writers in order take it.
                Some(job) => {
                    board = self.shared.board.lock();
                    job
                }
            }
        } else {
            job
        };
        if board.queue.len() >= QUEUED_MAX {
            // Every job queued is complete (this thread finished each before it
            // submitted the next), so the writers drain them without this thread;
            // nobody is held back meanwhile, as while it waits for a block.
            sync::reached("the reading thread waits for room in the queue");
            board.room_wanted = true;
            board.reader_waits = true;
            if board.may_wake(self.shared.cores) {
                self.shared.changed.notify_all();
            }
            while board.queue.len() >= QUEUED_MAX {
                self.shared.room.wait(&mut board);
            }
            board.room_wanted = false;
            board.reader_waits = false;
        }
        board.queue.push_back(job);
        let more = board.idle == 0 && board.started < self.shared.most_writers;
        if more {
            board.started += 1;
        }
        let idle = board.idle > 0;
        drop(board);
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

    /// What the reading thread's pool tells when it starts and stops waiting for a
    /// block ([`Pool::telling`](super::blocks::Pool::telling)).
    pub(crate) fn reader_waits(&self) -> impl Fn(bool) + 'static {
        let shared = Arc::clone(&self.shared);
        move |waits| {
            let mut board = shared.board.lock();
            board.reader_waits = waits;
            if waits && board.may_wake(shared.cores) {
                shared.changed.notify_all();
            }
        }
    }

    /// Starts a thread that writes `job` alone, or gives the job back if no thread
    /// could be started. Its pieces are drained by that thread only, so the reading
    /// thread's blocks come back as they would from a writer taking jobs in order.
    fn spawn_for(&mut self, job: Job) -> Option<Job> {
        self.join_finished();
        let index = job.entry.index;
        // The job goes over once the thread exists, so a failed start keeps it.
        let (hand, handed) = sync::bounded::<Job>(1);
        let shared = Arc::clone(&self.shared);
        let spawned = sync::Builder::new()
            .name("inflight-stream-writer".into())
            .spawn(move || {
                // On unwinding too: an entry left in `large` would hold the writers in
                // order back for ever.
                let _done = DoneAlone(&shared, index);
                if let Ok(job) = handed.recv() {
                    shared.run(job, Relayed::Yes);
                }
            });
        match spawned {
            Ok(thread) => {
                self.threads.push(thread);
                // The thread holds the receiver until it has the job.
                let _ = hand.send(job);
                None
            }
            Err(_) => {
                self.shared.done_alone(index);
                Some(job)
            }
        }
    }

    /// Joins the threads that have ended (each large entry's is one): a thread not
    /// joined keeps its stack mapped until [`finish`](Self::finish).
    fn join_finished(&mut self) {
        let mut at = 0;
        while at < self.threads.len() {
            if sync::is_finished(&self.threads[at]) {
                if let Err(payload) = self.threads.swap_remove(at).join() {
                    self.shared.failures.panicked(payload);
                }
            } else {
                at += 1;
            }
        }
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
        self.shared.failures.fail_reading(index, error);
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

/// The most writer threads taking jobs in order that one streaming extraction
/// starts.
const MOST_WRITERS: usize = 8;

/// The most files waiting for a writer in order: past that, the reading thread waits
/// for the writers to take one. Each waits with its entry, its path and a slice of
/// its block (a few hundred bytes): an archive of many tiny files, which the reading
/// thread walks faster than files can be created, would otherwise queue all of them.
#[cfg(not(shuttle))]
const QUEUED_MAX: usize = 4096;
/// In the shuttle model: a queue full after two files.
#[cfg(shuttle)]
const QUEUED_MAX: usize = 2;

/// The decoded size from which an entry may get a writer thread of its own.
///
/// 4 MiB decodes in about 6 ms here: below that, starting an entry early gains less
/// than its two threads cost, and one more decoder sharing the cores slows the ones
/// that matter (numpy, pandas and scipy streamed level or up to 9% faster than at 1
/// MiB, where their 1-3 MiB extension modules each took a thread, in all but one run
/// of pandas at 400 MB/s; `benches/README.md`, seventh round).
#[cfg(not(any(shuttle, test)))]
const LARGE: u64 = 4 << 20;
/// In the crate's own tests, entries of a megabyte are large, so a test archive with
/// many of them stays small.
#[cfg(all(test, not(shuttle)))]
const LARGE: u64 = 1 << 20;
/// In the shuttle model, entries of a few blocks are large.
#[cfg(shuttle)]
pub(crate) const LARGE: u64 = 512;

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
                    if !board.yields(self.cores)
                        && let Some(job) = board.queue.pop_front()
                    {
                        board.busy += 1;
                        if board.room_wanted {
                            self.room.notify_one();
                        }
                        break job;
                    }
                    if board.closed && board.queue.is_empty() {
                        return;
                    }
                    if !board.queue.is_empty() {
                        sync::reached("a writer in order leaves a job to a large entry");
                    }
                    board.idle += 1;
                    self.changed.wait(&mut board);
                    board.idle -= 1;
                }
            };
            let busy = NotBusy(self);
            self.run(job, Relayed::No);
            drop(busy);
        }
    }

    /// A thread of its own finished its large entry: the writers it held back go on.
    fn done_alone(&self, index: usize) {
        self.board.lock().large.retain(|large| large.index != index);
        self.changed.notify_all();
    }

    /// Large entry `index` has bytes in hand to decode, or waits for more: in the
    /// second case, the writers it held back go on.
    fn has_work(&self, index: usize, has_work: bool) {
        let mut board = self.board.lock();
        if let Some(large) = board.large.iter_mut().find(|large| large.index == index) {
            large.has_work = has_work;
        }
        if !has_work && board.may_wake(self.cores) {
            self.changed.notify_all();
        }
    }

    /// Writes one job, recording its failure or panic.
    fn run(&self, job: Job, relayed: Relayed) {
        let index = job.entry.index;
        if self.failures.should_stop(index) {
            return;
        }
        let result = catch_unwind(AssertUnwindSafe(|| {
            let written = self.write(&job, relayed)?;
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
    fn write(&self, job: &Job, relayed: Relayed) -> Result<u64, Stop> {
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
                match (relayed, &job.pieces) {
                    (Relayed::Yes, Pieces::Arriving(pieces)) => {
                        let mut pieces = Watched {
                            shared: self,
                            index: entry.index,
                            pieces,
                            has_work: false,
                        };
                        let written = decode::write_pieces_relayed(
                            entry,
                            &mut pieces,
                            &cancelled,
                            &mut file,
                            &path,
                        );
                        // Decoded: what is left (a `sync_data`, say) needs no core.
                        pieces.tell(false);
                        written?;
                    }
                    // A job that gets a thread of its own comes with a channel
                    // (`submit`): a ready one here is a file's for a writer in order.
                    (Relayed::No, _) | (Relayed::Yes, Pieces::Ready(_)) => {
                        decode::write_pieces(
                            entry,
                            job.pieces.iter(),
                            &cancelled,
                            &mut file,
                            &path,
                        )?;
                    }
                }
                entry.size
            }
            Content::Plain => write_plain(job.pieces.iter(), &cancelled, &mut file, &path)?,
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
    pieces: impl Iterator<Item = Slice>,
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

/// Whether a job's file is written by a thread of its own while its thread decodes
/// (`decode::write_pieces_relayed`): a large entry's, on the thread started for it.
/// Its decoding is the extraction's longest chain, so its `write`s (a third of its
/// time on tmpfs) go to another core; a writer in order decodes and writes on one
/// thread, since other jobs keep every core busy then.
#[derive(Debug, Clone, Copy)]
enum Relayed {
    Yes,
    No,
}

/// A large entry's pieces as its own thread takes them: the board learns whether the
/// thread has bytes in hand or waits for the reading thread ([`Shared::has_work`]).
struct Watched<'a> {
    shared: &'a Shared,
    index: usize,
    pieces: &'a Receiver<Slice>,
    /// What the board was last told.
    has_work: bool,
}

impl Watched<'_> {
    fn tell(&mut self, has_work: bool) {
        if self.has_work != has_work {
            self.has_work = has_work;
            self.shared.has_work(self.index, has_work);
        }
    }
}

impl Iterator for Watched<'_> {
    type Item = Slice;

    fn next(&mut self) -> Option<Slice> {
        match self.pieces.try_recv() {
            Ok(piece) => {
                self.tell(true);
                Some(piece)
            }
            Err(TryRecvError::Disconnected) => None,
            Err(TryRecvError::Empty) => {
                // Told before waiting: the writers held back must not wait with it.
                sync::reached("a large entry waits for its next bytes");
                self.tell(false);
                let piece = self.pieces.recv().ok();
                self.tell(piece.is_some());
                piece
            }
        }
    }
}

/// Calls [`Shared::done_alone`] when dropped, unwinding included.
struct DoneAlone<'a>(&'a Shared, usize);

impl Drop for DoneAlone<'_> {
    fn drop(&mut self) {
        self.0.done_alone(self.1);
    }
}

/// A writer in order is no longer busy, unwinding included; then the others must
/// look at the board again, since this one will not.
struct NotBusy<'a>(&'a Shared);

impl Drop for NotBusy<'_> {
    fn drop(&mut self) {
        self.0.board.lock().busy -= 1;
        if std::thread::panicking() {
            self.0.changed.notify_all();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A board with `busy` writers in order at work and large entries on threads of
    /// their own, each with bytes in hand (`true`) or waiting for them.
    fn board(busy: usize, large: &[bool]) -> Board {
        Board {
            queue: VecDeque::new(),
            closed: false,
            idle: 0,
            started: 0,
            busy,
            large: large
                .iter()
                .enumerate()
                .map(|(index, &has_work)| Large { index, has_work })
                .collect(),
            reader_waits: false,
            room_wanted: false,
        }
    }

    /// A large entry waiting for its next bytes holds no writer back, on one core or
    /// many: on a slow download it would idle every core for nothing.
    #[test]
    fn a_large_entry_waiting_for_bytes_holds_no_writer_back() {
        for cores in [1, 2, 8] {
            for busy in 0..cores {
                assert!(!board(busy, &[false]).yields(cores));
                assert!(!board(busy, &[false, false]).yields(cores));
            }
        }
    }

    /// A large entry with bytes in hand keeps a core for itself: the writers in order
    /// run on the others, and on none when such entries fill them all.
    #[test]
    fn large_entries_with_bytes_in_hand_keep_a_core_each() {
        assert!(board(0, &[true]).yields(1));
        assert!(!board(0, &[true]).yields(2));
        assert!(board(1, &[true]).yields(2));
        assert!(board(0, &[true, true]).yields(2));
        assert!(!board(0, &[true, false]).yields(2));
        assert!(board(1, &[true, false]).yields(2));
        assert!(!board(2, &[]).yields(2));
        assert!(!board(3, &[false, false, false]).yields(8));
        assert!(board(5, &[true, true, true]).yields(8));
    }

    /// While the reading thread waits for a block, nobody is held back: only the
    /// writers' progress frees blocks for it, whatever the large entries hold.
    #[test]
    fn nobody_is_held_back_while_the_reading_thread_waits_for_a_block() {
        for cores in [1, 2, 8] {
            for busy in 0..=cores {
                let mut waiting = board(busy, &[true, true]);
                waiting.reader_waits = true;
                assert!(!waiting.yields(cores));
            }
        }
    }

    /// A writer held back is woken only when it may take the job waiting.
    #[test]
    fn a_writer_held_back_is_woken_only_when_it_may_take_a_job() {
        let mut held = board(1, &[true]);
        held.idle = 1;
        assert!(!held.may_wake(2), "no job");
        held.queue.push_back(job());
        assert!(!held.may_wake(2), "still yields");
        held.large[0].has_work = false;
        assert!(held.may_wake(2));
        held.idle = 0;
        assert!(!held.may_wake(2), "no writer idle");
    }

    fn job() -> Job {
        let (_, pieces) = sync::unbounded();
        let pieces = Pieces::Arriving(pieces);
        Job {
            entry: FileEntry {
                index: 0,
                name: "a".into(),
                path: "a".into(),
                data_start: 0,
                compressed_size: 0,
                size: 0,
                crc32: 0,
                method: crate::unzip::plan::Method::Stored,
                executable: false,
            },
            content: Content::Encoded,
            pieces,
        }
    }
}
