//! Deflated entries decoded in memory, in one call, with libdeflate (the `libdeflate`
//! feature).
//!
//! An entry whose compressed and uncompressed sizes together fit in the in-memory
//! limit is read with one positional read and inflated in one call into a buffer of
//! exactly its declared size. Whole-buffer decoding is what libdeflate is built for:
//! no state kept between calls, no window copies, a decode loop that refills its bit
//! buffer without branches and copies matches in words. Larger entries keep the
//! streaming path, so memory stays bounded (see [`Whole`]).
//!
//! # Why libdeflate, and why only behind a feature
//!
//! Measured on this project's 2-core machine, one thread, total time to inflate every
//! deflated entry (best of 20 over four runs; `benches/README.md` has the table, the
//! spread, and how to rerun it with `benches/decoders`):
//! libdeflate one-shot is 1.23-1.53x as fast as zlib-rs streaming on real wheels
//! (sympy, django, numpy, pandas), 1.33x on one 101 MB entry, 1.25x on the
//! benchmark's literal-heavy synthetic libraries: faster on every archive. The
//! pure-Rust one-shot decoders are not: zlib-rs one-shot (`zlib_rs::decompress_slice`)
//! 0.73-1.15x, zune-inflate 0.62-1.14x (and unreleased since April 2023; it is as
//! lenient as libdeflate, below), miniz_oxide 0.56-0.98x, fdeflate 0.79-1.17x (and it
//! reads only zlib-wrapped streams); zenflate, a Rust port of libdeflate, is
//! AGPL-licensed. The other fast C decoder, ISA-L's igzip (isal-rs, measured
//! 2026-11-26), needs nasm and autotools to build and is no better: in two runs over
//! ten archives it was behind libdeflate 18 times (ahead twice, by 5% and 13%, where
//! entries of 70 MB and more dominate), and slower than zlib-rs on the benchmark's
//! libraries. So the speed needs C, and C has three costs, each answered here:
//!
//! - **Platforms.** libdeflate-sys compiles its C with the `cc` crate, which needs a C
//!   compiler for the target (a cross `cargo check` for MSVC or macOS from Linux has
//!   none). The feature is therefore off by default: the default build stays pure
//!   Rust and builds everywhere Rust does; native builds and `x86_64-pc-windows-gnu`
//!   with mingw build the feature fine.
//! - **Hostile input in C.** libdeflate's decompressor is about 2,000 lines of C, fuzzed
//!   upstream (libFuzzer targets, OSS-Fuzz), and its whole-buffer API cannot write past the slice it
//!   is given: it returns "insufficient space" instead. We hand it a slice of exactly
//!   the declared size, so the cap on output is the slice's length; its input is the
//!   entry's own bytes plus 18 bytes we write. The binding (libdeflater, maintained,
//!   tracks each libdeflate release) is the only `unsafe` involved, none of it ours.
//! - **Strictness.** libdeflate decodes every stream zlib accepts to the same bytes,
//!   but it also accepts a few streams zlib refuses: literal/length symbols 286 and
//!   287 (decoded as length 258) and distance symbols 30 and 31 in fixed-Huffman
//!   blocks, and dynamic headers declaring more than 286 literal/length or 30
//!   distance codes. No encoder writes them; zlib (so CPython), zlib-rs and
//!   miniz_oxide refuse them. With the feature on, an entry that uses them is
//!   extracted when it fits in memory and refused when it streams: the one known
//!   difference between the two paths, the price of the feature, pinned by a test.
//!   Everything else is exactly the streaming path's verdict: see below.
//!
//! # Same verdicts as the streaming path
//!
//! libdeflater exposes neither how many input bytes the stream used nor a way to stop
//! at the declared size, so the entry is wrapped as a gzip member: a fixed 10-byte
//! header, the entry's bytes, then its declared CRC-32 and size as the gzip trailer.
//! libdeflate reads the trailer right after the end of the deflate stream and checks
//! it against what it decoded. A success with exactly the declared size therefore
//! means either the stream ended at the end of the entry's bytes, so the trailer read
//! was ours and the CRC-32 is the declared one, or it ended earlier and the four bytes
//! at 4 past its end (the "size" it read) are the declared size. The second case is
//! ruled out by searching the entry's bytes for the declared size (a `memmem`, a few
//! GB/s; an honest entry of `c` bytes contains it by chance with odds of about
//! `c / 2^32`). Anything else (an error from libdeflate, another size, the size
//! found) is not judged here at all: the entry goes through the streaming path, which
//! gives the exact verdict and error it always gives, so errors never depend on the
//! path. Nothing has been written to the file by then.

use libdeflater::Decompressor;

use super::{Source, Stop, read_err};
use crate::unzip::plan::{FileEntry, Method};
use crate::unzip::reader::EntryReader;

/// A gzip member header: magic, method 8 (deflate), no flags, no time, no extra
/// flags, OS unknown. libdeflate parses it and starts inflating at byte 10.
const GZIP_HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
/// The gzip trailer: CRC-32 and size modulo 2^32, little-endian.
const GZIP_TRAILER: usize = 8;

/// Whether `entry` is decoded in memory: deflated, and its compressed and
/// uncompressed sizes together at most `limit` (a limit of 0 takes nothing).
pub(super) fn takes(entry: &FileEntry, limit: usize) -> bool {
    entry.method == Method::Deflated
        && limit > 0
        && entry
            .compressed_size
            .checked_add(entry.size)
            .is_some_and(|total| total <= limit as u64)
}

/// One thread's buffers for in-memory decoding, kept for reuse like the streaming
/// buffers (in the thread's `Scratch`).
///
/// # Memory
///
/// The buffers grow to the largest entry the thread has decoded in memory and stay
/// that size: at most `limit + 18` bytes per thread that writes files (the entry's
/// compressed bytes with the gzip wrapping, and its content), plus libdeflate's
/// decompressor (about 10 KiB). Keeping them is what makes the path pay: fresh
/// memory costs a page fault and the kernel's zeroing per 4 KiB, about 0.5 ns per
/// byte here, as much as libdeflate saves over zlib-rs on binary data, so buffers
/// allocated per entry or per extraction would give the gain back. A buffer is only
/// ever grown, never refilled with zeros: the decoder overwrites what it reports and
/// nothing else is read.
#[derive(Default)]
pub(super) struct Whole {
    input: Vec<u8>,
    output: Vec<u8>,
    decompressor: Option<Decompressor>,
}

impl Whole {
    /// Reads and inflates `entry` (which [`takes`] accepted). Returns
    /// its content when it is verified: exactly the declared size, the declared
    /// CRC-32, nothing after the stream. Returns `None` when it is not, for the
    /// streaming path to judge.
    ///
    /// Cancellation is asked once, before the read: the one call cannot be
    /// interrupted, which delays a cancellation by at most one in-memory entry (about
    /// 0.1 s for 32 MiB here).
    ///
    /// # Errors
    ///
    /// A read error, or [`Stop::Cancelled`] if a lower entry failed before the read.
    pub(super) fn decode(
        &mut self,
        entry: &FileEntry,
        source: &Source<'_>,
    ) -> Result<Option<&[u8]>, Stop> {
        if (source.cancelled)() {
            return Err(Stop::Cancelled);
        }
        // `takes` bounded both sizes by a `usize`.
        let (compressed, size) = (entry.compressed_size as usize, entry.size as usize);
        let wrapped = GZIP_HEADER.len() + compressed + GZIP_TRAILER;
        grow(&mut self.input, wrapped);
        grow(&mut self.output, size);
        let input = &mut self.input[..wrapped];
        let data_end = GZIP_HEADER.len() + compressed;
        input[..GZIP_HEADER.len()].copy_from_slice(&GZIP_HEADER);
        EntryReader::new(source.file, entry.data_start, entry.compressed_size)
            .read_chunk(&mut input[GZIP_HEADER.len()..data_end])
            .map_err(|e| read_err(source, e))?;
        let size_le = (entry.size as u32).to_le_bytes();
        input[data_end..data_end + 4].copy_from_slice(&entry.crc32.to_le_bytes());
        input[data_end + 4..].copy_from_slice(&size_le);
        let decompressor = self.decompressor.get_or_insert_with(Decompressor::new);
        let output = &mut self.output[..size];
        match decompressor.gzip_decompress(input, output) {
            Ok(n) if n == size => {}
            _ => return Ok(None),
        }
        // The declared size anywhere it could have been read as the trailer's, that
        // is 4 to 7 bytes past an earlier end of the stream: let streaming decide.
        let searched = &input[GZIP_HEADER.len()..wrapped - 1];
        if memchr::memmem::find(searched, &size_le).is_some() {
            return Ok(None);
        }
        Ok(Some(output))
    }
}

/// Makes `buf` at least `len` bytes long. A new buffer comes zeroed from the
/// allocator (`calloc`: untouched pages cost nothing until used) instead of being
/// filled with zeros by `resize`; a buffer long enough is left as it is, since the
/// decoder overwrites what it reports and nothing else is read.
fn grow(buf: &mut Vec<u8>, len: usize) {
    if buf.len() < len {
        *buf = vec![0; len];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(method: Method, compressed_size: u64, size: u64) -> FileEntry {
        FileEntry {
            index: 0,
            name: "e".into(),
            path: "e".into(),
            data_start: 0,
            compressed_size,
            size,
            crc32: 0,
            method,
            executable: false,
        }
    }

    #[test]
    fn deflated_entries_up_to_the_limit_in_both_sizes_together_are_taken() {
        assert!(takes(&entry(Method::Deflated, 400, 600), 1_000));
        assert!(!takes(&entry(Method::Deflated, 400, 601), 1_000));
        assert!(!takes(&entry(Method::Deflated, 1_001, 0), 1_000));
        assert!(!takes(&entry(Method::Deflated, u64::MAX, 2), 1_000));
        assert!(!takes(&entry(Method::Stored, 10, 10), 1_000));
        assert!(!takes(&entry(Method::Deflated, 0, 0), 0));
    }
}
