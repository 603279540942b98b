//! The execute phase: create the directories, then write the files in parallel.
//!
//! # Invariants
//!
//! - Workers only read shared state: the [`Plan`], the archive `File` (through
//!   positional reads), and the staging path. The only shared mutable state is
//!   [`Outcome`]: an atomic lowest failing index and, behind a mutex taken only on
//!   failure, the error that goes with it.
//! - A worker writes exactly one path, its entry's, created with `O_CREAT|O_EXCL`
//!   (`create_new`), so it never follows a link or touches another entry's file.
//! - The error returned is the one of the lowest failing entry index, whatever the
//!   timing: an entry is skipped (or abandoned between buffers) only once an entry with
//!   a *lower* index has failed, so every entry below the final lowest failure has run
//!   to completion and succeeded.

use std::cell::RefCell;
use std::fs::{DirBuilder, File, OpenOptions, Permissions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use flate2::{Decompress, FlushDecompress, Status};
use parking_lot::Mutex;

use super::plan::{FileEntry, Method, Plan};
use super::progress::Tracker;
use super::reader::EntryReader;
use crate::error::UnzipError;

/// Compressed bytes read per `pread`. 64 KiB inflates to about 128-512 KiB of typical
/// code and text, which fills one output buffer, so a large entry alternates one read
/// and one write of roughly equal cost; both buffers together (320 KiB per worker)
/// stay inside a core's L2 cache, so the bytes inflated are still cached when CRC-32
/// and `write` touch them.
const IN_BUF: usize = 64 << 10;
/// Uncompressed bytes per `write`. At 256 KiB the syscall (~1-2 us) is under 5% of the
/// copy and inflate work for the buffer; larger buffers spill out of L2.
const OUT_BUF: usize = 256 << 10;

/// Per-thread buffers and inflater, reused across entries. Allocating them per entry
/// would cost a 256 KiB `calloc` (an `mmap` plus page faults above glibc's threshold)
/// and a 40 KiB inflate state for every file, which shows on archives of thousands of
/// small files; keeping them per rayon worker costs 360 KiB per thread, once.
struct Scratch {
    input: Vec<u8>,
    output: Vec<u8>,
    inflater: Decompress,
    /// Created on the first zstd entry a thread meets.
    #[cfg(feature = "zstd")]
    zstd: Option<zstd::stream::raw::Decoder<'static>>,
}

thread_local! {
    /// Borrowed only in [`write_entry`], which calls neither rayon nor user code
    /// while it holds the borrow, so no job can re-enter it on the same thread.
    static SCRATCH: RefCell<Option<Scratch>> = const { RefCell::new(None) };
}

/// Why a worker stopped before finishing its entry.
enum Stop {
    /// A lower-indexed entry failed: this entry's result cannot matter any more.
    Cancelled,
    Failed(UnzipError),
}

impl From<UnzipError> for Stop {
    fn from(error: UnzipError) -> Self {
        Stop::Failed(error)
    }
}

/// The lowest failing index and its error, shared by the workers.
struct Outcome {
    /// `usize::MAX` while nothing failed. Workers read it between buffers; `Relaxed` is
    /// enough because it only decides whether to stop early, and the error itself is
    /// handed over through the mutex.
    lowest: AtomicUsize,
    error: Mutex<Option<(usize, UnzipError)>>,
}

impl Outcome {
    fn should_stop(&self, index: usize) -> bool {
        self.lowest.load(Ordering::Relaxed) < index
    }

    fn fail(&self, index: usize, error: UnzipError) {
        let mut slot = self.error.lock();
        if slot.as_ref().is_none_or(|(lowest, _)| index < *lowest) {
            *slot = Some((index, error));
        }
        self.lowest.fetch_min(index, Ordering::Relaxed);
    }
}

/// What the workers share.
struct Context<'a> {
    archive_file: &'a File,
    archive: &'a Path,
    root: &'a Path,
    needs_chmod: bool,
    tracker: &'a Tracker<'a>,
    outcome: Outcome,
}

/// Creates every directory of the plan under `root`, parents first.
///
/// Sequential on purpose: directories are few next to files (a wheel has about one
/// per ten files), `mkdir` on one parent serialises on that parent's inode lock in
/// the kernel anyway, and creating them all up front lets each file job do a single
/// `open` instead of a `create_dir_all` that would `stat` every ancestor and race
/// with its siblings.
pub(crate) fn create_dirs(plan: &Plan, root: &Path, needs_chmod: bool) -> Result<(), UnzipError> {
    let mut builder = DirBuilder::new();
    builder.mode(0o755);
    for dir in &plan.dirs {
        let path = root.join(dir);
        builder.create(&path).map_err(|source| UnzipError::Write {
            path: path.clone(),
            source,
        })?;
        if needs_chmod {
            std::fs::set_permissions(&path, Permissions::from_mode(0o755))
                .map_err(|source| UnzipError::Write { path, source })?;
        }
    }
    Ok(())
}

/// Writes every file of the plan under `root`, in parallel on the current rayon pool.
///
/// # Parallelism
///
/// One rayon job per file, spawned in plan order (largest first) with
/// `scope_fifo`/`spawn_fifo`, so every worker, owner or thief, takes the oldest
/// pending job: the largest file not started yet. That is greedy longest-first list
/// scheduling, within 4/3 of the best makespan, and it means one big entry never
/// waits behind small ones. Splitting the sorted list into contiguous ranges
/// (`par_chunks`, or a default `par_iter`) would instead hand a thief the middle of
/// the list and leave the first half, with every big file in it, to one thread. A job
/// costs about 100 ns to spawn, nothing next to the `open` + `write` + `close`
/// (several microseconds) of even an empty file.
pub(crate) fn write_files(
    plan: &Plan,
    archive_file: &File,
    archive: &Path,
    root: &Path,
    needs_chmod: bool,
    tracker: &Tracker<'_>,
) -> Result<(), UnzipError> {
    let ctx = Context {
        archive_file,
        archive,
        root,
        needs_chmod,
        tracker,
        outcome: Outcome {
            lowest: AtomicUsize::new(usize::MAX),
            error: Mutex::new(None),
        },
    };
    let ctx = &ctx;
    // A panic in a job (or in the progress callback it calls) is resumed here by
    // rayon once every job has finished, so it unwinds through the caller's staging
    // guard with no worker still writing.
    rayon::scope_fifo(|scope| {
        for entry in &plan.files {
            scope.spawn_fifo(move |_| {
                if ctx.outcome.should_stop(entry.index) {
                    return;
                }
                match write_entry(ctx, entry) {
                    Ok(()) => ctx.tracker.file_done(entry.size),
                    Err(Stop::Cancelled) => {}
                    Err(Stop::Failed(error)) => ctx.outcome.fail(entry.index, error),
                }
            });
        }
    });
    match ctx.outcome.error.lock().take() {
        Some((_, error)) => Err(error),
        None => Ok(()),
    }
}

/// Creates one file and fills it with its entry's checked content.
fn write_entry(ctx: &Context<'_>, entry: &FileEntry) -> Result<(), Stop> {
    let path = ctx.root.join(&entry.path);
    let mode = if entry.executable { 0o755 } else { 0o644 };
    let write_err = |path: &PathBuf, source| {
        Stop::Failed(UnzipError::Write {
            path: path.clone(),
            source,
        })
    };
    let mut out = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(&path)
        .map_err(|e| write_err(&path, e))?;
    if ctx.needs_chmod {
        out.set_permissions(Permissions::from_mode(mode))
            .map_err(|e| write_err(&path, e))?;
    }
    SCRATCH.with(|cell| {
        let mut slot = cell.borrow_mut();
        let scratch = slot.get_or_insert_with(|| Scratch {
            input: vec![0; IN_BUF],
            output: vec![0; OUT_BUF],
            inflater: Decompress::new(false),
            #[cfg(feature = "zstd")]
            zstd: None,
        });
        let mut reader =
            EntryReader::new(ctx.archive_file, entry.data_start, entry.compressed_size);
        let mut sink = Sink {
            file: &mut out,
            path: &path,
            crc: crc32fast::Hasher::new(),
            written: 0,
        };
        match entry.method {
            // Stored bytes go straight from read to write: use the big buffer.
            Method::Stored => copy_stored(ctx, entry, &mut reader, &mut sink, &mut scratch.output),
            Method::Deflated => inflate(ctx, entry, &mut reader, &mut sink, scratch),
            #[cfg(feature = "zstd")]
            Method::Zstd => unzstd(ctx, entry, &mut reader, &mut sink, scratch),
        }?;
        let actual = sink.crc.finalize();
        if sink.written != entry.size {
            return Err(Stop::Failed(UnzipError::SizeMismatch {
                index: entry.index,
                name: entry.name.clone(),
                declared: entry.size,
                actual: sink.written,
            }));
        }
        if actual != entry.crc32 {
            return Err(Stop::Failed(UnzipError::CrcMismatch {
                index: entry.index,
                name: entry.name.clone(),
                expected: entry.crc32,
                actual,
            }));
        }
        Ok(())
    })
}

/// The output file, with the running CRC-32 and byte count of what went into it.
struct Sink<'a> {
    file: &'a mut File,
    path: &'a Path,
    crc: crc32fast::Hasher,
    written: u64,
}

impl Sink<'_> {
    fn put(&mut self, bytes: &[u8]) -> Result<(), Stop> {
        self.crc.update(bytes);
        self.written += bytes.len() as u64;
        self.file.write_all(bytes).map_err(|source| {
            Stop::Failed(UnzipError::Write {
                path: self.path.to_owned(),
                source,
            })
        })
    }
}

fn corrupt(entry: &FileEntry, message: String) -> Stop {
    Stop::Failed(UnzipError::CorruptData {
        index: entry.index,
        name: entry.name.clone(),
        source: io::Error::new(io::ErrorKind::InvalidData, message),
    })
}

fn exceeds(entry: &FileEntry) -> Stop {
    Stop::Failed(UnzipError::ExceedsDeclaredSize {
        index: entry.index,
        name: entry.name.clone(),
        declared: entry.size,
    })
}

fn read_err(ctx: &Context<'_>, source: io::Error) -> Stop {
    Stop::Failed(UnzipError::ReadArchive {
        archive: ctx.archive.to_owned(),
        source,
    })
}

/// Copies a stored entry (its sizes were checked equal in the plan).
fn copy_stored(
    ctx: &Context<'_>,
    entry: &FileEntry,
    reader: &mut EntryReader<'_>,
    sink: &mut Sink<'_>,
    buf: &mut [u8],
) -> Result<(), Stop> {
    while reader.remaining() > 0 {
        if ctx.outcome.should_stop(entry.index) {
            return Err(Stop::Cancelled);
        }
        let n = reader.read_chunk(buf).map_err(|e| read_err(ctx, e))?;
        sink.put(&buf[..n])?;
    }
    Ok(())
}

/// How much output a decoder may produce next: what is left of the declared size plus
/// one byte (that byte, if produced, proves the stream is longer than declared), and
/// never more than the buffer. The one place that bounds every decoder's output.
fn output_window(left: u64, buffer: usize) -> usize {
    usize::try_from(left.saturating_add(1))
        .unwrap_or(usize::MAX)
        .min(buffer)
}

/// Inflates a deflated entry, never producing more than `entry.size + 1` bytes: the
/// output window handed to the inflater is capped at what is left of the declared
/// size plus one byte, and that one extra byte, if produced, proves the stream is
/// longer than declared.
fn inflate(
    ctx: &Context<'_>,
    entry: &FileEntry,
    reader: &mut EntryReader<'_>,
    sink: &mut Sink<'_>,
    scratch: &mut Scratch,
) -> Result<(), Stop> {
    let Scratch {
        input,
        output,
        inflater,
        ..
    } = scratch;
    inflater.reset(false);
    let corrupt = |message: String| corrupt(entry, message);
    let (mut start, mut end) = (0, 0);
    loop {
        if ctx.outcome.should_stop(entry.index) {
            return Err(Stop::Cancelled);
        }
        if start == end && reader.remaining() > 0 {
            end = reader.read_chunk(input).map_err(|e| read_err(ctx, e))?;
            start = 0;
        }
        let left = entry.size - sink.written;
        let window = output_window(left, output.len());
        let (in_before, out_before) = (inflater.total_in(), inflater.total_out());
        let status = inflater
            .decompress(
                &input[start..end],
                &mut output[..window],
                FlushDecompress::None,
            )
            .map_err(|e| corrupt(e.to_string()))?;
        let consumed = (inflater.total_in() - in_before) as usize;
        let produced = (inflater.total_out() - out_before) as usize;
        start += consumed;
        if produced as u64 > left {
            return Err(exceeds(entry));
        }
        sink.put(&output[..produced])?;
        match status {
            Status::StreamEnd => return Ok(()),
            _ if consumed == 0 && produced == 0 && start == end && reader.remaining() == 0 => {
                return Err(corrupt(
                    "the deflate stream ends before its final block".into(),
                ));
            }
            _ if consumed == 0 && produced == 0 => {
                // Input is available and output has room, yet nothing moved: only a
                // broken stream does that. Bail out rather than spin.
                return Err(corrupt("the deflate stream makes no progress".into()));
            }
            _ => {}
        }
    }
}

/// Largest Zstandard window accepted, as a power of two: 32 MiB. A frame header
/// chooses the window the decoder allocates, so it is a size the archive declares;
/// the library's default cap (128 MiB) per worker is more than a package archive
/// needs. Frames that want more are reported as corrupt.
#[cfg(feature = "zstd")]
const ZSTD_WINDOW_LOG_MAX: u32 = 25;

/// Decompresses a Zstandard entry under the same cap as [`inflate`]: never more than
/// `entry.size + 1` bytes of output.
#[cfg(feature = "zstd")]
fn unzstd(
    ctx: &Context<'_>,
    entry: &FileEntry,
    reader: &mut EntryReader<'_>,
    sink: &mut Sink<'_>,
    scratch: &mut Scratch,
) -> Result<(), Stop> {
    use zstd::stream::raw::{DParameter, Decoder, Operation};

    let Scratch {
        input,
        output,
        zstd,
        ..
    } = scratch;
    let broken = |e: io::Error| corrupt(entry, e.to_string());
    let decoder = match zstd {
        Some(decoder) => {
            decoder.reinit().map_err(broken)?;
            decoder
        }
        None => {
            let mut decoder = Decoder::new().map_err(broken)?;
            decoder
                .set_parameter(DParameter::WindowLogMax(ZSTD_WINDOW_LOG_MAX))
                .map_err(broken)?;
            zstd.insert(decoder)
        }
    };
    let (mut start, mut end) = (0, 0);
    loop {
        if ctx.outcome.should_stop(entry.index) {
            return Err(Stop::Cancelled);
        }
        if start == end && reader.remaining() > 0 {
            end = reader.read_chunk(input).map_err(|e| read_err(ctx, e))?;
            start = 0;
        }
        let left = entry.size - sink.written;
        let window = output_window(left, output.len());
        let status = decoder
            .run_on_buffers(&input[start..end], &mut output[..window])
            .map_err(broken)?;
        start += status.bytes_read;
        if status.bytes_written as u64 > left {
            return Err(exceeds(entry));
        }
        sink.put(&output[..status.bytes_written])?;
        // A hint of 0 means a frame just ended and its output is fully flushed.
        let frame_done = status.remaining == 0;
        let input_done = start == end && reader.remaining() == 0;
        if input_done && frame_done {
            return Ok(());
        }
        if status.bytes_read == 0 && status.bytes_written == 0 {
            let why = if input_done {
                "the zstd stream ends inside a frame"
            } else {
                "the zstd stream makes no progress"
            };
            return Err(corrupt(entry, why.into()));
        }
    }
}
