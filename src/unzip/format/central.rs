//! Central directory records, read by us, one at a time.
//!
//! The zip crate parses the whole central directory into a record per entry (each
//! with its name two or three times over) and replaces a name by its Unicode Path
//! field when the field's CRC matches. The plan needs the raw fields instead (the
//! host byte, the raw name, the central extra area) and no more than one record in
//! memory at a time, so it walks the records itself. [`end::read`] has already
//! checked that `cd_start..cd_end` holds exactly the declared number of whole,
//! signed records.
//!
//! Layout (APPNOTE 4.3.12), little endian:
//!
//! | offset | size | field                          |
//! |--------|------|--------------------------------|
//! | 0      | 4    | signature `PK\x01\x02`         |
//! | 4      | 2    | version made by (host in the high byte) |
//! | 6      | 2    | version needed                 |
//! | 8      | 2    | general purpose flags          |
//! | 10     | 2    | compression method             |
//! | 12     | 4    | DOS time and date              |
//! | 16     | 4    | CRC-32                         |
//! | 20     | 4    | compressed size                |
//! | 24     | 4    | uncompressed size              |
//! | 28     | 2    | name length `n`                |
//! | 30     | 2    | extra field length `m`         |
//! | 32     | 2    | comment length `k`             |
//! | 34     | 2    | disk number start              |
//! | 36     | 2    | internal attributes            |
//! | 38     | 4    | external attributes            |
//! | 42     | 4    | local header offset            |
//! | 46     | n+m+k | name, extra field, comment    |
//!
//! [`end::read`]: super::end::read

use crate::unzip::source::ReadAt;
use std::io;

use super::bytes::{u16_at, u32_at};
use crate::unzip::reader::read_up_to_at;

/// `PK\x01\x02`, a central directory record (APPNOTE 4.3.12), 46 bytes before its
/// name, extra field and comment.
pub(crate) const SIGNATURE: u32 = 0x0201_4b50;
pub(crate) const FIXED_LEN: usize = 46;

/// The fixed part of a central record, as stored (no zip64 value applied).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fixed {
    pub(crate) made_by: u16,
    pub(crate) flags: u16,
    pub(crate) method: u16,
    pub(crate) crc32: u32,
    pub(crate) compressed: u32,
    pub(crate) uncompressed: u32,
    pub(crate) name_len: u16,
    pub(crate) extra_len: u16,
    pub(crate) comment_len: u16,
    pub(crate) disk: u16,
    pub(crate) external: u32,
    pub(crate) offset: u32,
}

impl Fixed {
    /// Parses the 46 fixed bytes of a record; `None` without the signature.
    pub(crate) fn parse(b: &[u8; FIXED_LEN]) -> Option<Fixed> {
        (u32_at(b, 0) == SIGNATURE).then(|| Fixed {
            made_by: u16_at(b, 4),
            flags: u16_at(b, 8),
            method: u16_at(b, 10),
            crc32: u32_at(b, 16),
            compressed: u32_at(b, 20),
            uncompressed: u32_at(b, 24),
            name_len: u16_at(b, 28),
            extra_len: u16_at(b, 30),
            comment_len: u16_at(b, 32),
            disk: u16_at(b, 34),
            external: u32_at(b, 38),
            offset: u32_at(b, 42),
        })
    }

    /// The host byte of "version made by" (APPNOTE 4.4.2: 0 DOS, 3 Unix, ...).
    pub(crate) fn host(&self) -> u8 {
        (self.made_by >> 8) as u8
    }
}

/// One record: its fixed part, raw name and extra area (borrowed from the reader's
/// buffers until the next record).
#[derive(Debug)]
pub(crate) struct Record<'a> {
    pub(crate) fixed: Fixed,
    pub(crate) name: &'a [u8],
    pub(crate) extra: &'a [u8],
}

/// Reads the records of `cd_start..cd_end` in order, through a 64 KiB buffer (one
/// read per 64 KiB of directory instead of three or four per record), keeping only
/// the current record.
///
/// The reads are positional, like every other read of the archive: on Windows a
/// positional read moves the file's cursor, so a reader that went by the cursor
/// would find it wherever the last local header read left it.
#[derive(Debug)]
pub(crate) struct Records<'f> {
    file: &'f dyn ReadAt,
    /// The next record's offset.
    at: u64,
    end: u64,
    /// `buf[..filled]` holds the file's bytes from `buf_start`.
    buf: Vec<u8>,
    buf_start: u64,
    filled: usize,
}

/// Bytes read at once; a record is at most `46 + 3 * 65,535` bytes and may need more
/// than one buffer.
const BUF_LEN: usize = 64 << 10;

impl<'f> Records<'f> {
    /// A reader of the records in `cd_start..cd_end`.
    pub(crate) fn new(file: &'f dyn ReadAt, cd_start: u64, cd_end: u64) -> Self {
        Records {
            file,
            at: cd_start,
            end: cd_end,
            buf: vec![0; BUF_LEN],
            buf_start: cd_start,
            filled: 0,
        }
    }

    /// Makes `buf` hold `len` bytes from offset `at` (growing it for the rare record
    /// longer than the buffer), and returns where they start in it.
    fn window(&mut self, at: u64, len: usize) -> io::Result<usize> {
        let inside = at >= self.buf_start && at + len as u64 <= self.buf_start + self.filled as u64;
        if !inside {
            if self.buf.len() < len {
                self.buf.resize(len, 0);
            }
            let want = (self.end - at).min(self.buf.len() as u64) as usize;
            let got = read_up_to_at(self.file, &mut self.buf[..want], at)?;
            (self.buf_start, self.filled) = (at, got);
            if got < len {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "central directory cut short",
                ));
            }
        }
        Ok((at - self.buf_start) as usize)
    }

    /// The next record, `None` at the end of the directory. A record that is not
    /// whole and signed is an `InvalidData` error: `end::read` walked these
    /// very bytes already, so only a file changed under us gets there.
    pub(crate) fn next_record(&mut self) -> io::Result<Option<Record<'_>>> {
        if self.at >= self.end {
            return Ok(None);
        }
        let invalid = |what| io::Error::new(io::ErrorKind::InvalidData, what);
        if self.end - self.at < FIXED_LEN as u64 {
            return Err(invalid("central record past the directory"));
        }
        let start = self.window(self.at, FIXED_LEN)?;
        let mut fixed = [0u8; FIXED_LEN];
        fixed.copy_from_slice(&self.buf[start..start + FIXED_LEN]);
        let fixed = Fixed::parse(&fixed).ok_or_else(|| invalid("central record signature"))?;
        let (name_len, extra_len) = (usize::from(fixed.name_len), usize::from(fixed.extra_len));
        let len = FIXED_LEN + name_len + extra_len + usize::from(fixed.comment_len);
        if self.end - self.at < len as u64 {
            return Err(invalid("central record past the directory"));
        }
        let start = self.window(self.at, FIXED_LEN + name_len + extra_len)?;
        self.at += len as u64;
        let name = &self.buf[start + FIXED_LEN..start + FIXED_LEN + name_len];
        let extra =
            &self.buf[start + FIXED_LEN + name_len..start + FIXED_LEN + name_len + extra_len];
        Ok(Some(Record { fixed, name, extra }))
    }
}

/// The raw name of record `index` in `cd_start..cd_end`, for an error message about an
/// entry whose name the plan did not keep (lossily decoded; empty if unreadable).
pub(crate) fn name_at(file: &dyn ReadAt, cd_start: u64, cd_end: u64, index: usize) -> String {
    let mut records = Records::new(file, cd_start, cd_end);
    let mut at = 0;
    while let Ok(Some(record)) = records.next_record() {
        if at == index {
            return String::from_utf8_lossy(record.name).into_owned();
        }
        at += 1;
    }
    String::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fixed_part_is_read_field_by_field() {
        let mut b = [0u8; FIXED_LEN];
        b[..4].copy_from_slice(&SIGNATURE.to_le_bytes());
        b[4..6].copy_from_slice(&0x0314u16.to_le_bytes());
        b[8..10].copy_from_slice(&0x0808u16.to_le_bytes());
        b[10..12].copy_from_slice(&8u16.to_le_bytes());
        b[16..20].copy_from_slice(&0xDEAD_BEEFu32.to_le_bytes());
        b[20..24].copy_from_slice(&7u32.to_le_bytes());
        b[24..28].copy_from_slice(&9u32.to_le_bytes());
        b[28..30].copy_from_slice(&3u16.to_le_bytes());
        b[30..32].copy_from_slice(&4u16.to_le_bytes());
        b[32..34].copy_from_slice(&5u16.to_le_bytes());
        b[38..42].copy_from_slice(&(0o100_755u32 << 16).to_le_bytes());
        b[42..46].copy_from_slice(&1234u32.to_le_bytes());
        let f = Fixed::parse(&b).unwrap();
        assert_eq!(
            (f.host(), f.flags, f.method, f.crc32),
            (3, 0x0808, 8, 0xDEAD_BEEF)
        );
        assert_eq!((f.compressed, f.uncompressed, f.offset), (7, 9, 1234));
        assert_eq!((f.name_len, f.extra_len, f.comment_len), (3, 4, 5));
        assert_eq!(f.external >> 16, 0o100_755);
        b[0] = 0;
        assert_eq!(Fixed::parse(&b), None);
    }
}
