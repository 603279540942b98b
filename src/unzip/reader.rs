//! Positional reads from the one archive `File` that every worker shares.
//!
//! [`platform::read_at`](super::platform::read_at) is `pread(2)` on Unix (a
//! `ReadFile` at an offset on Windows): it takes the offset as an argument, so any
//! number of threads can read through one `&File` at once, with no mutex and no
//! reopening by path. (A `Read + Seek` handle would need a lock around every
//! seek-then-read pair, serialising the workers.)

use super::source::ReadAt;
use std::io;

/// Reads into `buf` at `offset` until `buf` is full or the file ends; returns the
/// number of bytes read.
pub(crate) fn read_up_to_at(file: &dyn ReadAt, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read_at(&mut buf[filled..], offset + filled as u64) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// One entry's compressed bytes: `remaining` bytes starting at `offset`.
#[derive(Debug)]
pub(crate) struct EntryReader<'a> {
    file: &'a dyn ReadAt,
    offset: u64,
    remaining: u64,
}

impl<'a> EntryReader<'a> {
    pub(crate) fn new(file: &'a dyn ReadAt, offset: u64, len: u64) -> Self {
        EntryReader {
            file,
            offset,
            remaining: len,
        }
    }

    /// Bytes not read yet.
    pub(crate) fn remaining(&self) -> u64 {
        self.remaining
    }

    /// Fills `buf` (or as much of it as the entry has left) and returns the count.
    ///
    /// The plan checked that the range lies inside the file, so running into the end
    /// of the file means it shrank underneath us: an `UnexpectedEof` error.
    pub(crate) fn read_chunk(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let want = usize::try_from(self.remaining)
            .unwrap_or(usize::MAX)
            .min(buf.len());
        let got = read_up_to_at(self.file, &mut buf[..want], self.offset)?;
        if got < want {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "archive ended inside an entry",
            ));
        }
        self.offset += got as u64;
        self.remaining -= got as u64;
        Ok(got)
    }
}
