//! Decoding: an entry's compressed bytes in, its checked content out.
//!
//! [`write_content`] is the one entry point the execute phase calls, once per file,
//! on whichever worker took the file. Every method goes through one driver loop,
//! [`stream::drive`], which reads the compressed bytes in chunks, hands them to the
//! method's decoder ([`stored`], [`inflate`], and `zstd` with its feature)
//! and writes what comes out. What makes output safe lives in that loop alone:
//!
//! - **The cap.** A decoder is never given room for more than what is left of the
//!   declared size plus one byte ([`stream::output_window`]); producing that one byte
//!   proves the entry longer than declared ([`UnzipError::ExceedsDeclaredSize`]), so
//!   no entry ever produces more than `size + 1` bytes, whatever its stream says.
//! - **The end.** A stream must end exactly where the entry's compressed bytes do:
//!   bytes left after its end are refused ([`UnzipError::TrailingData`]), input
//!   that runs out before it is corrupt ([`UnzipError::CorruptData`]).
//! - **The checks.** Once the stream ends, the byte count must equal the declared
//!   size ([`UnzipError::SizeMismatch`]) and the CRC-32 the declared one
//!   ([`UnzipError::CrcMismatch`]), in [`check`].
//!
//! With the `libdeflate` feature, a deflated entry small enough is first tried in
//! memory, in one call (`whole.rs`, which argues the choice of decoder). It needs no
//! loop: libdeflate gets an output slice of exactly the declared size and cannot
//! write past it, so the cap there is that slice's length; and whatever it cannot
//! verify (size, CRC-32 and end of stream) goes through the driver loop, which gives
//! the verdict, so both paths give the same errors.
//!
//! # Invariants
//!
//! - A decoder sees only the slices the driver hands it; it holds no file and no
//!   count of its own, so it cannot write past the cap or skip the checks.
//! - Nothing is written to the output file before the bytes passed the cap; a failed
//!   entry's partial file is removed with the staging directory.

mod inflate;
mod relay;
mod stored;
mod stream;
pub(crate) use self::stream::{Driver, Fed};
#[cfg(feature = "libdeflate")]
mod whole;
#[cfg(feature = "zstd")]
mod zstd;

use std::io::{self, Write};
use std::path::Path;

use super::plan::{FileEntry, Method};
use crate::sync::stream as sync;
use crate::unzip::UnzipError;

/// Why a worker stopped before finishing its entry.
pub(crate) enum Stop {
    /// A lower-indexed entry failed: this entry's result cannot matter any more.
    Cancelled,
    Failed(UnzipError),
}

impl From<UnzipError> for Stop {
    fn from(error: UnzipError) -> Self {
        Stop::Failed(error)
    }
}

/// Where an entry's compressed bytes come from, and whether they still matter.
pub(super) struct Source<'a> {
    /// The archive, read with positional reads only (shared by every worker).
    pub(super) file: &'a dyn crate::unzip::source::ReadAt,
    /// Its path, for read errors.
    pub(super) archive: &'a Path,
    /// True once a lower-indexed entry has failed. Asked between buffers.
    pub(super) cancelled: &'a dyn Fn() -> bool,
}

/// The default [`Unzipper::in_memory_limit`](crate::Unzipper::in_memory_limit):
/// 32 MiB, the per-worker budget the zstd window cap also uses. The largest entry of
/// the numpy wheel measured here (a 24 MiB shared library, 7 MiB compressed) fits,
/// and numpy extracts 1.15x as fast as with an 8 MiB limit; larger entries stream,
/// at the same speed as before (all in memory, opencv and pyarrow gained 1.15-1.21x
/// over streaming, for buffers of 65-105 MB kept on every thread).
pub(crate) const DEFAULT_IN_MEMORY_LIMIT: usize = 32 << 20;

/// Decodes `entry` from `source` into `file` (at `path`, for errors) and checks the
/// result against the declared size and CRC-32: in memory, in one call, when the
/// `libdeflate` feature is on and the entry is deflated and fits in
/// `in_memory_limit` bytes (compressed and uncompressed together) and the result
/// can be verified there; through the streaming driver otherwise.
///
/// # Errors
///
/// [`Stop::Cancelled`] when `source` says so between buffers; otherwise a
/// [`Stop::Failed`] naming the entry (corrupt or trailing data, a size or CRC that
/// differs from the declared one, output past the declared size) or the file (a
/// read or write error).
pub(super) fn write_content(
    entry: &FileEntry,
    source: &Source<'_>,
    file: &mut dyn Write,
    path: &Path,
    in_memory_limit: usize,
) -> Result<(), Stop> {
    #[cfg(feature = "libdeflate")]
    if whole::takes(entry, in_memory_limit) {
        let verified = stream::with_scratch(|scratch| {
            let content = scratch.whole.decode(entry, source)?;
            if let Some(content) = content {
                // Verified whole (size, CRC-32, end of stream): one `write`.
                file.write_all(content)
                    .map_err(|e| Stop::Failed(UnzipError::write(path)(e)))?;
            }
            Ok::<_, Stop>(content.is_some())
        })?;
        if verified {
            return Ok(());
        }
    }
    #[cfg(not(feature = "libdeflate"))]
    let _ = in_memory_limit;
    stream_content(entry, source, file, path, Buffers::Borrowed)
}

/// As [`write_content`] (always streaming), into `out` that is the caller's code
/// ([`Archive::read_to`](crate::Archive::read_to)): this thread's buffers are taken
/// out of its slot while `out` runs, so `out` may decode on this thread too (read
/// another member, extract an archive), where a borrow of the slot would panic.
///
/// # Errors
///
/// As [`write_content`].
pub(crate) fn write_to_caller(
    entry: &FileEntry,
    source: &Source<'_>,
    out: &mut dyn Write,
    path: &Path,
) -> Result<(), Stop> {
    stream_content(entry, source, out, path, Buffers::Taken)
}

/// How a decode gets this thread's buffers: borrowed from its slot when nothing but
/// this crate's code runs meanwhile, taken out of it when the caller's may.
#[derive(Debug, Clone, Copy)]
enum Buffers {
    Borrowed,
    Taken,
}

/// Streams `entry` from `source` through its method's driver into `file`, and checks
/// the result.
fn stream_content(
    entry: &FileEntry,
    source: &Source<'_>,
    file: &mut dyn Write,
    path: &Path,
    buffers: Buffers,
) -> Result<(), Stop> {
    let mut sink = Sink::new(file, path);
    let decode = |scratch: &mut stream::Scratch| {
        let mut decoder = Decoder::new(entry, &mut scratch.inflater, &mut scratch.zstd)?;
        stream::drive(
            entry,
            source,
            &mut sink,
            &mut decoder,
            &mut scratch.input,
            &mut scratch.output,
        )
    };
    match buffers {
        Buffers::Borrowed => stream::with_scratch(decode),
        Buffers::Taken => stream::with_scratch_taken(decode),
    }?;
    check(entry, sink.written, sink.crc.finalize())
}

/// Decodes `entry` from `pieces`, its compressed bytes in order as a download stream
/// delivers them (exactly `entry.compressed_size` of them), into `file`, and checks
/// the result as [`write_content`] does. Pieces that stop coming before the entry's
/// end mean the reading side stopped (it reports why): [`Stop::Cancelled`].
///
/// # Errors
///
/// As [`write_content`].
pub(crate) fn write_pieces<P: std::ops::Deref<Target = [u8]>>(
    entry: &FileEntry,
    pieces: impl IntoIterator<Item = P>,
    cancelled: &dyn Fn() -> bool,
    file: &mut dyn Write,
    path: &Path,
) -> Result<(), Stop> {
    let mut sink = Sink::new(file, path);
    decode_pieces(entry, pieces, cancelled, &mut sink)
}

/// As [`write_pieces`], but `file` is written by a second thread while this one
/// decodes (`relay.rs`): for an entry decoded alone on a thread of its own, whose end
/// would otherwise wait for its writes too. On this thread alone if that thread
/// cannot start.
///
/// # Errors
///
/// As [`write_content`]; a write error wins over what decoding found after it, as it
/// would on one thread.
///
/// # Panics
///
/// Resumes a panic of the writing thread.
pub(crate) fn write_pieces_relayed<I, P>(
    entry: &FileEntry,
    pieces: &mut I,
    cancelled: &dyn Fn() -> bool,
    file: &mut (dyn Write + Send),
    path: &Path,
) -> Result<(), Stop>
where
    I: Iterator<Item = P>,
    P: std::ops::Deref<Target = [u8]>,
{
    let (relay, writing) = relay::relay(stream::OUT_BUF);
    let relayed = sync::scope(|scope| {
        // A reborrow: `file` is the caller's again once the scope ends, thread or not.
        let file = &mut *file;
        let writer =
            sync::spawn_scoped(scope, "inflight-file-writer", move || writing.run(file)).ok()?;
        let mut sink = Sink::relayed(relay, path);
        let decoded = decode_pieces(entry, &mut *pieces, cancelled, &mut sink);
        // Closes the relay: the writing thread ends with the last buffer.
        drop(sink);
        let wrote = writer
            .join()
            .unwrap_or_else(|payload| std::panic::resume_unwind(payload));
        Some(match wrote {
            Err(error) => Err(Stop::Failed(UnzipError::write(path)(error))),
            Ok(()) => decoded,
        })
    });
    match relayed {
        Some(result) => result,
        // No thread (a process limit, say): the file goes on with this one. The
        // closure that held `file` was never run.
        None => write_pieces(entry, pieces, cancelled, file, path),
    }
}

/// Feeds `pieces` to the driver of `entry`'s method, into `sink`, and checks the
/// result.
fn decode_pieces<P: std::ops::Deref<Target = [u8]>>(
    entry: &FileEntry,
    pieces: impl IntoIterator<Item = P>,
    cancelled: &dyn Fn() -> bool,
    sink: &mut Sink<'_>,
) -> Result<(), Stop> {
    stream::with_scratch(|scratch| {
        let mut decoder = Decoder::new(entry, &mut scratch.inflater, &mut scratch.zstd)?;
        let mut driver = stream::Driver::new(entry, &mut decoder, &mut scratch.output);
        let total = entry.compressed_size;
        let mut received = 0u64;
        let mut pieces = pieces.into_iter();
        loop {
            if cancelled() {
                return Err(Stop::Cancelled);
            }
            let piece = if received < total {
                match pieces.next() {
                    Some(piece) => piece,
                    None => return Err(Stop::Cancelled),
                }
            } else {
                // An empty entry, or one whose stream has not ended with its bytes:
                // `last` makes the driver say which.
                return match driver.feed(&[], true, sink)? {
                    stream::Fed::Ended { .. } => Ok(()),
                    stream::Fed::More => Err(corrupt(entry, "the stream does not end")),
                };
            };
            received += piece.len() as u64;
            let last = received >= total;
            if let stream::Fed::Ended { consumed } = driver.feed(&piece, last, sink)? {
                let left_over = (piece.len() - consumed) as u64 + total.saturating_sub(received);
                if left_over > 0 {
                    return Err(trailing(entry, left_over));
                }
                return Ok(());
            }
        }
    })?;
    check(entry, sink.written, sink.crc.clone().finalize())
}

/// Runs `f` with a [`Driver`] of `entry`'s method over this thread's buffers: for a
/// caller that feeds the driver itself (a stream's reading thread decoding an entry
/// whose end only its stream knows). `f` may run user code (the stream's `Read`),
/// which may decode on this thread too: the buffers are taken out of the thread's
/// slot meanwhile, not borrowed.
pub(crate) fn with_driver<T>(
    entry: &FileEntry,
    f: impl FnOnce(&mut Driver<'_, Decoder<'_>>) -> Result<T, Stop>,
) -> Result<T, Stop> {
    stream::with_scratch_taken(|scratch| {
        let mut decoder = Decoder::new(entry, &mut scratch.inflater, &mut scratch.zstd)?;
        let mut driver = Driver::new(entry, &mut decoder, &mut scratch.output);
        f(&mut driver)
    })
}

/// One entry's decoder, whichever its method: the one type the driver runs.
pub(crate) enum Decoder<'s> {
    Stored(stored::Stored),
    Inflate(inflate::Inflate<'s>),
    #[cfg(feature = "zstd")]
    Zstd(zstd::Zstd<'s>),
}

impl<'s> Decoder<'s> {
    /// The decoder of `entry`'s method, from this thread's decoder states.
    pub(crate) fn new(
        entry: &FileEntry,
        inflater: &'s mut flate2::Decompress,
        zstd: &'s mut stream::ZstdSlot,
    ) -> Result<Self, Stop> {
        #[cfg(not(feature = "zstd"))]
        let _ = zstd;
        Ok(match entry.method {
            Method::Stored => Decoder::Stored(stored::Stored),
            Method::Deflated => Decoder::Inflate(inflate::Inflate::new(inflater)),
            #[cfg(feature = "zstd")]
            Method::Zstd => Decoder::Zstd(zstd::Zstd::new(zstd).map_err(|e| corrupt(entry, e))?),
        })
    }
}

impl stream::Decode for Decoder<'_> {
    fn truncated(&self) -> &'static str {
        match self {
            Decoder::Stored(d) => d.truncated(),
            Decoder::Inflate(d) => d.truncated(),
            #[cfg(feature = "zstd")]
            Decoder::Zstd(d) => d.truncated(),
        }
    }

    fn step(
        &mut self,
        input: &[u8],
        output: &mut [u8],
        last: bool,
    ) -> Result<stream::Step, String> {
        match self {
            Decoder::Stored(d) => d.step(input, output, last),
            Decoder::Inflate(d) => d.step(input, output, last),
            #[cfg(feature = "zstd")]
            Decoder::Zstd(d) => d.step(input, output, last),
        }
    }
}

/// Where a driver's checked output goes.
pub(crate) trait Out {
    /// Takes `bytes`, which already passed the cap.
    fn put(&mut self, bytes: &[u8]) -> Result<(), Stop>;

    /// Takes a full output buffer, which already passed the cap. A sink that hands
    /// buffers to another thread swaps it for an empty one of the same length instead
    /// of copying it ([`write_pieces_relayed`]); the default puts its bytes.
    fn put_full(&mut self, buffer: &mut Vec<u8>) -> Result<(), Stop> {
        self.put(buffer)
    }
}

/// The output file, with the running CRC-32 and byte count of what went into it.
pub(crate) struct Sink<'a> {
    to: To<'a>,
    path: &'a Path,
    crc: crc32fast::Hasher,
    written: u64,
}

/// Who writes the file.
enum To<'a> {
    /// This thread.
    File(&'a mut dyn Write),
    /// A thread of its own, handed full buffers ([`write_pieces_relayed`]).
    Relay(relay::Relay),
}

impl<'a> Sink<'a> {
    pub(crate) fn new(file: &'a mut dyn Write, path: &'a Path) -> Self {
        Sink::to(To::File(file), path)
    }

    /// A sink whose file another thread writes, handed full buffers.
    fn relayed(relay: relay::Relay, path: &'a Path) -> Self {
        Sink::to(To::Relay(relay), path)
    }

    fn to(to: To<'a>, path: &'a Path) -> Self {
        Sink {
            to,
            path,
            crc: crc32fast::Hasher::new(),
            written: 0,
        }
    }

    /// The writing thread stopped: its own error is the one reported
    /// ([`write_pieces_relayed`]); this one stands only for the moment.
    fn gone(&self) -> Stop {
        Stop::Failed(UnzipError::write(self.path)(io::Error::other(
            "the thread writing the file stopped",
        )))
    }
}

impl Out for Sink<'_> {
    /// Writes `bytes` and counts them into the CRC-32.
    fn put(&mut self, bytes: &[u8]) -> Result<(), Stop> {
        self.crc.update(bytes);
        self.written += bytes.len() as u64;
        match &mut self.to {
            To::File(file) => file
                .write_all(bytes)
                .map_err(|e| Stop::Failed(UnzipError::write(self.path)(e))),
            To::Relay(relay) => relay.hand_copy(bytes).map_err(|_| self.gone()),
        }
    }

    /// Counts the buffer into the CRC-32 and writes it, or hands it over whole.
    fn put_full(&mut self, buffer: &mut Vec<u8>) -> Result<(), Stop> {
        if let To::Relay(relay) = &mut self.to {
            self.crc.update(buffer);
            self.written += buffer.len() as u64;
            return relay.hand(buffer).map_err(|_| self.gone());
        }
        self.put(buffer)
    }
}

/// The entry's content is exactly what it declares: `written` bytes with CRC-32 `crc`.
fn check(entry: &FileEntry, written: u64, crc: u32) -> Result<(), Stop> {
    check_declared(
        entry.index,
        &entry.name,
        (entry.size, entry.crc32),
        (written, crc),
    )
    .map_err(Stop::Failed)
}

/// Entry `index` (`name`) produced `(size, crc32)` where it declared `declared`: the
/// size must match first ([`UnzipError::SizeMismatch`]), then the CRC-32
/// ([`UnzipError::CrcMismatch`]). Also the stream's check of an entry against its data
/// descriptor (`stream/forward.rs`).
pub(crate) fn check_declared(
    index: usize,
    name: &str,
    declared: (u64, u32),
    (size, crc32): (u64, u32),
) -> Result<(), UnzipError> {
    if size != declared.0 {
        return Err(UnzipError::SizeMismatch {
            index,
            name: name.to_owned(),
            declared: declared.0,
            actual: size,
        });
    }
    if crc32 != declared.1 {
        return Err(UnzipError::CrcMismatch {
            index,
            name: name.to_owned(),
            expected: declared.1,
            actual: crc32,
        });
    }
    Ok(())
}

fn corrupt(entry: &FileEntry, message: impl Into<String>) -> Stop {
    Stop::Failed(UnzipError::CorruptData {
        index: entry.index,
        name: entry.name.clone(),
        source: io::Error::new(io::ErrorKind::InvalidData, message.into()),
    })
}

fn trailing(entry: &FileEntry, len: u64) -> Stop {
    Stop::Failed(UnzipError::TrailingData {
        index: entry.index,
        name: entry.name.clone(),
        len,
    })
}

fn exceeds(entry: &FileEntry) -> Stop {
    Stop::Failed(UnzipError::ExceedsDeclaredSize {
        index: entry.index,
        name: entry.name.clone(),
        declared: entry.size,
    })
}

fn read_err(source: &Source<'_>, error: io::Error) -> Stop {
    Stop::Failed(UnzipError::read(source.archive)(error))
}
