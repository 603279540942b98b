//! [`ReadAt`]: where the plan and the decoders read an archive's bytes, by offset.
//!
//! Three sources, one set of rules:
//!
//! | source            | what it holds                                   | used by                       |
//! |-------------------|-------------------------------------------------|-------------------------------|
//! | `File`            | the archive on disk, read with positional reads | `Unzipper::unzip`, `Archive::open` |
//! | `[u8]`            | the archive in memory                           | `Archive::from_bytes`         |
//! | [`Sparse`]        | what a stream kept of an archive it extracted: every local header, data descriptor and directory's data, and the central directory and end records | the check of `Unzipper::unzip_reader` |
//!
//! The plan reads only records (headers, descriptors, the directory, the end records)
//! and a directory's few bytes of data, never a file's data: a [`Sparse`] source holds
//! all of those, so the plan runs on it unchanged. A read where nothing was kept reads
//! nothing, as at the end of a file: it stops a read that runs past a record (the
//! plan reads a little more than a local header, in case its extra field is long),
//! and a record the central directory places inside a file's data reads as cut
//! short, which the plan refuses (the seekable path refuses those archives too, as
//! overlapping or mismatched entries). It can only make the plan refuse, never
//! accept.

use std::collections::BTreeMap;
use std::fs::File;
use std::io;

use super::platform;

/// An archive's bytes, read by offset. `Sync`: workers read one source at once.
pub(crate) trait ReadAt: Sync + std::fmt::Debug {
    /// Reads into `buf` from `offset`; may return less than asked, and 0 at the end.
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize>;
    /// The archive's length.
    fn size(&self) -> io::Result<u64>;
}

impl ReadAt for File {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        platform::read_at(self, buf, offset)
    }

    fn size(&self) -> io::Result<u64> {
        Ok(self.metadata()?.len())
    }
}

impl ReadAt for [u8] {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        let start = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(self.len());
        let n = buf.len().min(self.len() - start);
        buf[..n].copy_from_slice(&self[start..start + n]);
        Ok(n)
    }

    fn size(&self) -> io::Result<u64> {
        Ok(self.len() as u64)
    }
}

/// A source read in order, as `Read` and `Seek`, for walks that buffer (positional
/// reads underneath: it has a cursor of its own, so it shares the source with
/// others).
#[derive(Debug)]
pub(crate) struct Cursor<'a> {
    source: &'a dyn ReadAt,
    pos: u64,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(source: &'a dyn ReadAt) -> Self {
        Cursor { source, pos: 0 }
    }
}

impl io::Read for Cursor<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.source.read_at(buf, self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl io::Seek for Cursor<'_> {
    fn seek(&mut self, to: io::SeekFrom) -> io::Result<u64> {
        let pos = match to {
            io::SeekFrom::Start(at) => Some(at),
            io::SeekFrom::Current(by) => self.pos.checked_add_signed(by),
            io::SeekFrom::End(by) => self.source.size()?.checked_add_signed(by),
        };
        self.pos = pos.ok_or_else(|| io::Error::from(io::ErrorKind::InvalidInput))?;
        Ok(self.pos)
    }
}

/// Some of an archive's bytes, at their offsets, and its length: what a streaming
/// extraction keeps for the final check.
#[derive(Debug, Default)]
pub(crate) struct Sparse {
    len: u64,
    /// Runs of bytes by their first offset; they do not overlap.
    runs: BTreeMap<u64, Vec<u8>>,
}

impl Sparse {
    /// Nothing kept yet of an archive of `len` bytes.
    pub(crate) fn new(len: u64) -> Self {
        Sparse {
            len,
            runs: BTreeMap::new(),
        }
    }

    /// Keeps `bytes`, found at `offset`.
    pub(crate) fn keep(&mut self, offset: u64, bytes: Vec<u8>) {
        debug_assert!(offset + bytes.len() as u64 <= self.len);
        if !bytes.is_empty() {
            self.runs.insert(offset, bytes);
        }
    }
}

impl ReadAt for Sparse {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> io::Result<usize> {
        if offset >= self.len || buf.is_empty() {
            return Ok(0);
        }
        let Some((&start, run)) = self.runs.range(..=offset).next_back() else {
            return Ok(0);
        };
        let at = usize::try_from(offset - start).unwrap_or(usize::MAX);
        if at >= run.len() {
            return Ok(0);
        }
        let n = buf.len().min(run.len() - at);
        buf[..n].copy_from_slice(&run[at..at + n]);
        Ok(n)
    }

    fn size(&self) -> io::Result<u64> {
        Ok(self.len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sparse_source_reads_what_it_kept_and_nothing_elsewhere() {
        let mut sparse = Sparse::new(100);
        sparse.keep(10, b"header".to_vec());
        sparse.keep(90, b"tail......".to_vec());
        let mut buf = [0u8; 4];
        assert_eq!(sparse.read_at(&mut buf, 12).unwrap(), 4);
        assert_eq!(&buf, b"ader");
        assert_eq!(
            sparse.read_at(&mut buf, 14).unwrap(),
            2,
            "a read stops at a run's end"
        );
        assert_eq!(sparse.read_at(&mut buf, 16).unwrap(), 0);
        assert_eq!(sparse.read_at(&mut buf, 5).unwrap(), 0);
        assert_eq!(sparse.read_at(&mut buf, 100).unwrap(), 0);
    }

    #[test]
    fn bytes_in_memory_read_like_a_file() {
        let bytes: &[u8] = b"0123456789";
        let mut buf = [0u8; 4];
        assert_eq!(bytes.read_at(&mut buf, 8).unwrap(), 2);
        assert_eq!(&buf[..2], b"89");
        assert_eq!(bytes.read_at(&mut buf, 20).unwrap(), 0);
        assert_eq!(bytes.size().unwrap(), 10);
    }
}
