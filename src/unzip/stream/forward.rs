//! Entries whose end only their stream knows (flag bit 3, deflated): the reading
//! thread decodes them itself, since that is the only way to find where the data
//! descriptor starts, hands the decoded bytes to a writer in pool blocks, and checks
//! the descriptor against what it decoded.

use std::io::Read;
use std::sync::Arc;

use crate::sync::stream::Sender;

use super::blocks::{Block, Pool, Slice};
use super::input::Input;
use super::local::LocalEntry;
use crate::unzip::UnzipError;
use crate::unzip::decode::{self, Fed, Out, Stop};
use crate::unzip::format::descriptor;
use crate::unzip::limits::Limits;
use crate::unzip::plan::FileEntry;

/// Longest compressed form of "nothing" a directory may carry (as `kind.rs` allows).
const EMPTY_STREAM_MAX: usize = 16;

/// What decoding a file entry found.
pub(crate) struct Decoded {
    pub(crate) size: u64,
    pub(crate) crc32: u32,
    pub(crate) compressed: u64,
    /// The data descriptor, and where it is.
    pub(crate) descriptor_at: u64,
    pub(crate) descriptor: Vec<u8>,
}

/// What decoding a directory entry found.
pub(crate) struct DecodedDirectory {
    /// Its compressed bytes (one empty stream, or the plan refuses them).
    pub(crate) data: Vec<u8>,
    pub(crate) descriptor_at: u64,
    pub(crate) descriptor: Vec<u8>,
}

/// Decoded bytes on their way to a writer, in pool blocks.
struct Forward<'p> {
    pool: &'p Pool,
    tx: Sender<Slice>,
    block: Option<Block>,
    crc: crc32fast::Hasher,
    count: u64,
}

impl Forward<'_> {
    /// Sends the block being filled.
    fn flush(&mut self) {
        if let Some(block) = self.block.take() {
            let len = block.bytes().len();
            if len > 0 {
                let block = Arc::new(block);
                // A writer that stopped (a failure) no longer listens: its error stands.
                let _ = self.tx.send(Slice::new(&block, 0, len));
            }
        }
    }
}

impl Out for Forward<'_> {
    fn put(&mut self, mut bytes: &[u8]) -> Result<(), Stop> {
        self.crc.update(bytes);
        self.count += bytes.len() as u64;
        while !bytes.is_empty() {
            let block = self.block.get_or_insert_with(|| self.pool.take());
            let n = block.extend(bytes);
            bytes = &bytes[n..];
            if block.is_full() {
                self.flush();
            }
        }
        Ok(())
    }
}

/// A decoder's failure as the entry's error.
fn stopped(stop: Stop) -> UnzipError {
    match stop {
        Stop::Failed(error) => error,
        // Only a failure recorded before cancels the reading thread's own decoding,
        // and that failure is the verdict (it is at this entry or below).
        Stop::Cancelled => UnzipError::StreamMismatch {
            offset: 0,
            what: "decoding was cancelled",
        },
    }
}

/// Decodes the data of `entry` (flag bit 3, deflated) from the stream until its end,
/// sending the bytes to `tx`, then reads and checks its data descriptor. Without a
/// declared size, the limits are the cap, held as the bytes are decoded: the output
/// stops one byte past [`Limits::max_entry_size`] or past what
/// [`Limits::max_total_size`] leaves after the `total` bytes of the entries before
/// it, whichever comes first. (The compression ratio needs the entry's compressed
/// size, which only its end tells: the caller checks it then.)
/// `failed` says an entry failed (this one's writer, or one before it): the decoding
/// stops there, since the archive is refused, with [`UnzipError::StreamMismatch`],
/// which the failure recorded first outranks.
pub(crate) fn decode<R: Read>(
    input: &mut Input<'_, R>,
    pool: &Pool,
    entry: &LocalEntry,
    (limits, total): (&Limits, u64),
    tx: Sender<Slice>,
    failed: &dyn Fn() -> bool,
) -> Result<Decoded, UnzipError> {
    let room = limits.max_total_size.saturating_sub(total);
    let cap = limits.max_entry_size.min(room);
    let target = FileEntry {
        index: entry.index,
        name: entry.name.clone(),
        path: entry.path.clone(),
        data_start: input.offset(),
        compressed_size: 0,
        size: cap,
        crc32: 0,
        method: entry.method,
        executable: false,
    };
    let mut out = Forward {
        pool,
        tx,
        block: None,
        crc: crc32fast::Hasher::new(),
        count: 0,
    };
    let compressed = decode::with_driver(&target, |driver| {
        let mut compressed = 0u64;
        loop {
            // Nothing bounds the input of an entry of unknown size (empty stored
            // blocks decode to nothing): once the archive is refused, read no more.
            if failed() {
                return Err(Stop::Cancelled);
            }
            let available = input.available().map_err(|e| Stop::Failed(e.into()))?;
            if available.is_empty() {
                return Err(Stop::Failed(UnzipError::StreamEnded {
                    offset: input.offset(),
                }));
            }
            let n = available.len();
            match driver.feed(available, false, &mut out)? {
                Fed::More => {
                    input.consume(n);
                    compressed += n as u64;
                }
                Fed::Ended { consumed } => {
                    input.consume(consumed);
                    return Ok(compressed + consumed as u64);
                }
            }
        }
    })
    .map_err(|stop| match stopped(stop) {
        // Without a declared size, passing the cap is passing a limit: the entry's
        // own, as the plan checks it first, or else the total's.
        UnzipError::ExceedsDeclaredSize { index, name, .. } if cap == limits.max_entry_size => {
            UnzipError::EntryTooLarge {
                index,
                name,
                size: cap.saturating_add(1),
                limit: cap,
            }
        }
        UnzipError::ExceedsDeclaredSize { index, name, .. } => UnzipError::TotalTooLarge {
            index,
            name,
            limit: limits.max_total_size,
        },
        other => other,
    })?;
    out.flush();
    let (size, crc32) = (out.count, out.crc.finalize());
    let descriptor_at = input.offset();
    let descriptor = read_descriptor(input, entry)?;
    let found = descriptor::parse(&descriptor, entry.zip64).expect("a whole descriptor was read");
    // The descriptor is all the stream has declared (the central directory comes
    // last): data that breaks it is refused as the seekable path refuses data that
    // breaks the central directory, size first, then CRC-32. A descriptor that the
    // central directory contradicts is the check at the end's (`DataDescriptorMismatch`).
    // (The seekable path's decoder stops one byte past the declared size: more than
    // declared is that error there.)
    if size > found.uncompressed_size {
        return Err(UnzipError::ExceedsDeclaredSize {
            index: entry.index,
            name: entry.name.clone(),
            declared: found.uncompressed_size,
        });
    }
    decode::check_declared(
        entry.index,
        &entry.name,
        (found.uncompressed_size, found.crc32),
        (size, crc32),
    )?;
    if found.compressed_size != compressed {
        // Where the deflate stream ends is where the entry's data does: a descriptor
        // that says otherwise locates it elsewhere.
        return Err(UnzipError::DataDescriptorMismatch {
            index: entry.index,
            name: entry.name.clone(),
            field: "compressed size",
        });
    }
    Ok(Decoded {
        size,
        crc32,
        compressed,
        descriptor_at,
        descriptor,
    })
}

/// Output that must stay empty: a directory's.
struct Nothing;

impl Out for Nothing {
    fn put(&mut self, bytes: &[u8]) -> Result<(), Stop> {
        debug_assert!(bytes.is_empty(), "the driver caps a directory at 0 bytes");
        Ok(())
    }
}

/// Reads a directory entry's data (flag bit 3): one empty deflate stream, at most a
/// few bytes, then its data descriptor. Anything else is
/// [`UnzipError::DirectoryWithData`].
pub(crate) fn decode_directory<R: Read>(
    input: &mut Input<'_, R>,
    entry: &LocalEntry,
) -> Result<DecodedDirectory, UnzipError> {
    let with_data = || UnzipError::DirectoryWithData {
        index: entry.index,
        name: entry.name.clone(),
    };
    let target = FileEntry {
        index: entry.index,
        name: entry.name.clone(),
        path: entry.path.clone(),
        data_start: input.offset(),
        compressed_size: 0,
        size: 0,
        crc32: 0,
        method: entry.method,
        executable: false,
    };
    let data = decode::with_driver(&target, |driver| {
        let mut data = Vec::new();
        loop {
            let available = input.available().map_err(|e| Stop::Failed(e.into()))?;
            if available.is_empty() {
                return Err(Stop::Failed(UnzipError::StreamEnded {
                    offset: input.offset(),
                }));
            }
            let n = available.len().min(EMPTY_STREAM_MAX + 1 - data.len());
            let chunk = available[..n].to_vec();
            match driver.feed(&chunk, false, &mut Nothing)? {
                Fed::More => {
                    input.consume(n);
                    data.extend_from_slice(&chunk);
                    if data.len() > EMPTY_STREAM_MAX {
                        return Err(Stop::Failed(with_data()));
                    }
                }
                Fed::Ended { consumed } => {
                    input.consume(consumed);
                    data.extend_from_slice(&chunk[..consumed]);
                    return Ok(data);
                }
            }
        }
    })
    .map_err(|stop| match stopped(stop) {
        UnzipError::ExceedsDeclaredSize { .. } | UnzipError::CorruptData { .. } => with_data(),
        other => other,
    })?;
    let descriptor_at = input.offset();
    let descriptor = read_descriptor(input, entry)?;
    Ok(DecodedDirectory {
        data,
        descriptor_at,
        descriptor,
    })
}

/// Reads the data descriptor that follows an entry's data: with or without its
/// signature (read as signed when it starts with one, as every reader does), with
/// 4- or 8-byte sizes (8 when the local header has a zip64 field).
fn read_descriptor<R: Read>(
    input: &mut Input<'_, R>,
    entry: &LocalEntry,
) -> Result<Vec<u8>, UnzipError> {
    let width = if entry.zip64 { 8 } else { 4 };
    let mut bytes = vec![0u8; 4];
    input.read_exact(&mut bytes)?;
    let signed = bytes[..] == descriptor::SIGNATURE;
    let len = if signed { 8 + 2 * width } else { 4 + 2 * width };
    bytes.resize(len, 0);
    input.read_exact(&mut bytes[4..])?;
    Ok(bytes)
}
