//! The driver every streaming decoder runs under, and the per-thread buffers it uses.
//!
//! [`Driver`] is fed an entry's compressed bytes in chunks, from wherever they come
//! ([`drive`] reads them from the archive in chunks of [`IN_BUF`]; a download stream
//! feeds what arrives), lets the decoder turn them into at most [`OUT_BUF`] bytes at
//! a time, and writes those. Everything that keeps output safe happens there and
//! nowhere else: the room a decoder gets ([`output_window`]), the check that it did
//! not use the one extra byte of that room, the end of the stream against the end of
//! the input, and the test for a decoder that stops moving.

use std::cell::RefCell;

use flate2::Decompress;

use super::{Out, Source, Stop, corrupt, exceeds, read_err, trailing};
use crate::unzip::plan::FileEntry;
use crate::unzip::reader::EntryReader;

/// Compressed bytes read per `pread`. 64 KiB inflates to about 128-512 KiB of typical
/// code and text, which fills one output buffer, so a large entry alternates one read
/// and one write of roughly equal cost; both buffers together (320 KiB per worker)
/// stay inside a core's L2 cache, so the bytes inflated are still cached when CRC-32
/// and `write` touch them.
const IN_BUF: usize = 64 << 10;
/// Uncompressed bytes per `write`. At 256 KiB the syscall (~1-2 us) is under 5% of the
/// copy and inflate work for the buffer; larger buffers spill out of L2.
pub(super) const OUT_BUF: usize = 256 << 10;

/// What one call of a decoder did.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Step {
    /// Input bytes used (a prefix of the slice it was given).
    pub(crate) consumed: usize,
    /// Output bytes written (a prefix of the slice it was given).
    pub(crate) produced: usize,
    /// The stream is complete and its output fully flushed.
    pub(crate) ended: bool,
}

/// One method's decoder, driven by [`drive`].
pub(crate) trait Decode {
    /// What the driver reports when the input runs out before the stream ends.
    fn truncated(&self) -> &'static str;

    /// Decodes from `input` into `output`, writing at most `output.len()` bytes;
    /// `last` says no input follows `input`. An error is a message about the data.
    fn step(&mut self, input: &[u8], output: &mut [u8], last: bool) -> Result<Step, String>;
}

/// Per-thread buffers and decoder states, reused across entries. Allocating them per
/// entry would cost a 256 KiB `calloc` (an `mmap` plus page faults above glibc's
/// threshold) and a 40 KiB inflate state for every file, which shows on archives of
/// thousands of small files; keeping them per thread costs 360 KiB per thread that
/// ever wrote a file (the pool's workers and the threads that called `unzip`), once.
pub(super) struct Scratch {
    pub(super) input: Vec<u8>,
    pub(super) output: Vec<u8>,
    pub(super) inflater: Decompress,
    /// Created on the first zstd entry a thread meets.
    pub(super) zstd: ZstdSlot,
    /// The buffers of in-memory decoding, grown to the largest entry decoded in
    /// memory on this thread (see [`super::whole`]).
    #[cfg(feature = "libdeflate")]
    pub(super) whole: super::whole::Whole,
}

/// This thread's zstd decoder state, once it met a zstd entry (nothing without the
/// `zstd` feature).
#[cfg(feature = "zstd")]
pub(crate) type ZstdSlot = Option<zstd::stream::raw::Decoder<'static>>;
/// This thread's zstd decoder state, once it met a zstd entry (nothing without the
/// `zstd` feature).
#[cfg(not(feature = "zstd"))]
pub(crate) type ZstdSlot = ();

crate::sync::stream::thread_local! {
    /// Borrowed only in [`with_scratch`], whose callers call neither rayon nor user
    /// code while they hold the borrow, so no job can re-enter it on the same thread.
    /// A caller that runs user code meanwhile takes the scratch out of the slot
    /// instead ([`with_scratch_taken`]).
    static SCRATCH: RefCell<Option<Scratch>> = const { RefCell::new(None) };
}

impl Scratch {
    fn new() -> Scratch {
        Scratch {
            input: vec![0; IN_BUF],
            output: vec![0; OUT_BUF],
            inflater: Decompress::new(false),
            zstd: ZstdSlot::default(),
            #[cfg(feature = "libdeflate")]
            whole: super::whole::Whole::default(),
        }
    }
}

/// Runs `f` with this thread's [`Scratch`], creating it on first use.
pub(super) fn with_scratch<R>(f: impl FnOnce(&mut Scratch) -> R) -> R {
    SCRATCH.with(|cell| {
        let mut slot = cell.borrow_mut();
        f(slot.get_or_insert_with(Scratch::new))
    })
}

/// Runs `f` with this thread's [`Scratch`] taken out of its slot (or a new one), and
/// puts it back after: for a caller that runs user code inside `f` (a stream's
/// `Read`, on the thread that decodes the stream's entries of unknown size). That
/// code may decode on this thread too ([`Archive::read`](crate::Archive::read), say):
/// it finds the slot empty and uses buffers of its own, where a borrow would panic.
/// After a panic in `f` the scratch is dropped, and the next user makes a new one.
pub(super) fn with_scratch_taken<R>(f: impl FnOnce(&mut Scratch) -> R) -> R {
    let mut scratch = SCRATCH
        .with(|cell| cell.borrow_mut().take())
        .unwrap_or_else(Scratch::new);
    let result = f(&mut scratch);
    SCRATCH.with(|cell| *cell.borrow_mut() = Some(scratch));
    result
}

/// How much output a decoder may produce next: what is left of the declared size plus
/// one byte (that byte, if produced, proves the stream is longer than declared), and
/// never more than the room left in the buffer. The one place that bounds every
/// decoder's output.
pub(super) fn output_window(left: u64, room: usize) -> usize {
    usize::try_from(left.saturating_add(1))
        .unwrap_or(usize::MAX)
        .min(room)
}

/// Decodes `entry` with `decoder` into `sink`, reading its compressed bytes from the
/// archive with positional reads into `input`: the seekable path's use of [`Driver`].
/// Never more than `entry.size + 1` bytes are produced, and none past `entry.size`
/// is written.
pub(super) fn drive<D: Decode>(
    entry: &FileEntry,
    source: &Source<'_>,
    sink: &mut impl Out,
    decoder: &mut D,
    input: &mut [u8],
    output: &mut Vec<u8>,
) -> Result<(), Stop> {
    let mut reader = EntryReader::new(source.file, entry.data_start, entry.compressed_size);
    let mut driver = Driver::new(entry, decoder, output);
    loop {
        if (source.cancelled)() {
            return Err(Stop::Cancelled);
        }
        let got = if reader.remaining() > 0 {
            reader.read_chunk(input).map_err(|e| read_err(source, e))?
        } else {
            0
        };
        let last = reader.remaining() == 0;
        if let Fed::Ended { consumed } = driver.feed(&input[..got], last, sink)? {
            // Bytes the stream does not use, inside the entry's compressed size. No
            // honest writer leaves any, and readers disagree about them: CPython and
            // the zip crate skip them, but a streaming reader of an entry with a data
            // descriptor (flag bit 3) looks for the descriptor right after the
            // stream, so it would read them as the next records (a hidden entry, say).
            let left_over = (got - consumed) as u64 + reader.remaining();
            if left_over > 0 {
                return Err(trailing(entry, left_over));
            }
            return Ok(());
        }
    }
}

/// What [`Driver::feed`] did with a chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fed {
    /// The whole chunk went in; the stream has not ended.
    More,
    /// The stream ended after `consumed` bytes of the chunk, and everything it
    /// produced was written; the rest of the chunk is not the entry's data.
    Ended {
        /// Bytes of the chunk the stream used.
        consumed: usize,
    },
}

/// One entry's decoding, fed its compressed bytes in chunks as they come: from
/// positional reads ([`drive`]) or from a download stream. The only place that bounds
/// a decoder's output:
///
/// - a decoder is never given room for more than what is left of the declared size
///   plus one byte ([`output_window`]), and producing that byte is
///   [`UnzipError::ExceedsDeclaredSize`](crate::UnzipError::ExceedsDeclaredSize);
/// - decoded bytes are written when the output buffer is full or the stream ends, so
///   every `write` but an entry's last is a whole buffer, however the input was
///   chunked;
/// - a decoder that stops moving, or input that runs out before the stream ends, is
///   corrupt data.
pub(crate) struct Driver<'a, D: Decode> {
    entry: &'a FileEntry,
    decoder: &'a mut D,
    /// A vector only so that a sink may swap a full one for an empty one of the same
    /// length ([`Out::put_full`]); its length never changes.
    output: &'a mut Vec<u8>,
    /// Decoded bytes waiting in `output[..held]`.
    held: usize,
    /// All bytes decoded so far.
    produced: u64,
}

impl<'a, D: Decode> Driver<'a, D> {
    pub(crate) fn new(entry: &'a FileEntry, decoder: &'a mut D, output: &'a mut Vec<u8>) -> Self {
        Driver {
            entry,
            decoder,
            output,
            held: 0,
            produced: 0,
        }
    }

    /// Decodes `input`, writing full output buffers to `sink`. `last` says no byte of
    /// the entry follows `input` (its compressed size is known and this is its end);
    /// with `last` false the stream may still end inside `input`, and [`Fed::Ended`]
    /// says where (an entry whose end only its stream knows, before a data
    /// descriptor).
    ///
    /// # Errors
    ///
    /// [`Stop::Failed`] with corrupt data, output past the declared size, input that
    /// ends (`last`) before the stream does, or a write error.
    pub(crate) fn feed(
        &mut self,
        input: &[u8],
        last: bool,
        sink: &mut impl Out,
    ) -> Result<Fed, Stop> {
        let mut start = 0;
        loop {
            if self.held == self.output.len() {
                let len = self.output.len();
                sink.put_full(self.output)?;
                debug_assert_eq!(self.output.len(), len, "a sink gives back a full buffer");
                self.held = 0;
            }
            let left = self.entry.size - self.produced;
            let room = output_window(left, self.output.len() - self.held);
            let step = self
                .decoder
                .step(
                    &input[start..],
                    &mut self.output[self.held..self.held + room],
                    last,
                )
                .map_err(|message| corrupt(self.entry, message))?;
            start += step.consumed;
            if step.produced as u64 > left {
                return Err(exceeds(self.entry));
            }
            self.held += step.produced;
            self.produced += step.produced as u64;
            if step.ended {
                sink.put(&self.output[..self.held])?;
                self.held = 0;
                return Ok(Fed::Ended { consumed: start });
            }
            if step.consumed == 0 && step.produced == 0 {
                if start == input.len() && !last {
                    // Everything given went in; the decoder waits for more.
                    return Ok(Fed::More);
                }
                // Room was given (`room` >= 1), yet nothing moved: the input is used
                // up before the stream's end, or the stream is broken. Bail out, not
                // spin.
                let why = if start == input.len() {
                    self.decoder.truncated()
                } else {
                    "the compressed stream makes no progress"
                };
                return Err(corrupt(self.entry, why));
            }
        }
    }
}
