//! Reading a local file header ourselves, to compare it with the central directory.
//!
//! The zip crate trusts the central directory and only uses the local header to find
//! where the data starts. Archives that say one thing in each place are how
//! different tools end up extracting different files from one archive, so the plan
//! reads every local header and rejects any disagreement.
//!
//! Layout (APPNOTE 4.3.7), little endian:
//!
//! | offset | size | field                         |
//! |--------|------|-------------------------------|
//! | 0      | 4    | signature `PK\x03\x04`        |
//! | 4      | 2    | version needed                |
//! | 6      | 2    | general purpose flags         |
//! | 8      | 2    | compression method            |
//! | 10     | 4    | DOS time and date             |
//! | 14     | 4    | CRC-32                        |
//! | 18     | 4    | compressed size               |
//! | 22     | 4    | uncompressed size             |
//! | 26     | 2    | name length `n`               |
//! | 28     | 2    | extra field length `m`        |
//! | 30     | n+m  | name, then extra field        |

use crate::unzip::source::ReadAt;
use std::io;

use super::bytes::{u16_at, u32_at};
use crate::unzip::reader::read_up_to_at;

pub(crate) const SIGNATURE: u32 = 0x0403_4b50;
pub(crate) const FIXED_LEN: usize = 30;
/// Extra bytes read past the expected name on the first try. Most local extra fields
/// are empty or under 40 bytes (timestamps, zip64), so one `pread` of
/// `30 + name + 64` bytes usually gets the whole header; a longer extra field costs a
/// second read. The header is at most `30 + 2 * 65,535` bytes by construction (two
/// `u16` lengths), so nothing here is sized by a 32- or 64-bit claim.
const EXTRA_GUESS: usize = 64;

/// A parsed local header, as stored: the sizes before any zip64 field is applied
/// (`extra::check` does that, and the other extra-field rules).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LocalHeader {
    pub(crate) version_needed: u16,
    pub(crate) flags: u16,
    pub(crate) method: u16,
    pub(crate) crc32: u32,
    pub(crate) compressed_size: u32,
    pub(crate) uncompressed_size: u32,
    pub(crate) name: Vec<u8>,
    pub(crate) extra: Vec<u8>,
    /// Bytes from the signature to the first byte of data (`30 + n + m`).
    pub(crate) len: u64,
}

/// What was found at a local header offset.
#[derive(Debug)]
pub(crate) enum Found {
    Header(LocalHeader),
    /// Four bytes that are not `PK\x03\x04`.
    BadSignature,
    /// The file ends inside the header.
    Truncated,
}

/// Reads the local header at `offset`; `name_hint` is the central directory's name
/// length, used to size the first read.
pub(crate) fn read(file: &dyn ReadAt, offset: u64, name_hint: usize) -> io::Result<Found> {
    let mut buf = vec![0u8; FIXED_LEN + name_hint + EXTRA_GUESS];
    let got = read_up_to_at(file, &mut buf, offset)?;
    if got < FIXED_LEN {
        return Ok(if got >= 4 && u32_at(&buf, 0) != SIGNATURE {
            Found::BadSignature
        } else {
            Found::Truncated
        });
    }
    if u32_at(&buf, 0) != SIGNATURE {
        return Ok(Found::BadSignature);
    }
    let name_len = usize::from(u16_at(&buf, 26));
    let extra_len = usize::from(u16_at(&buf, 28));
    let total = FIXED_LEN + name_len + extra_len;
    if total > got {
        if got < buf.len() {
            return Ok(Found::Truncated);
        }
        buf.resize(total, 0);
        let more = read_up_to_at(file, &mut buf[got..], offset + got as u64)?;
        if got + more < total {
            return Ok(Found::Truncated);
        }
    }
    Ok(Found::Header(parse(&buf[..total])))
}

/// Parses a complete header (`buf.len() == 30 + n + m`, signature already checked).
pub(crate) fn parse(buf: &[u8]) -> LocalHeader {
    let name_len = usize::from(u16_at(buf, 26));
    LocalHeader {
        version_needed: u16_at(buf, 4),
        flags: u16_at(buf, 6),
        method: u16_at(buf, 8),
        crc32: u32_at(buf, 14),
        compressed_size: u32_at(buf, 18),
        uncompressed_size: u32_at(buf, 22),
        name: buf[FIXED_LEN..FIXED_LEN + name_len].to_vec(),
        extra: buf[FIXED_LEN + name_len..].to_vec(),
        len: buf.len() as u64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(csize: u32, usize_: u32, extra: &[u8]) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(&SIGNATURE.to_le_bytes());
        b.extend_from_slice(&45u16.to_le_bytes());
        b.extend_from_slice(&0x0800u16.to_le_bytes());
        b.extend_from_slice(&8u16.to_le_bytes());
        b.extend_from_slice(&0u32.to_le_bytes());
        b.extend_from_slice(&0xDEAD_BEEFu32.to_le_bytes());
        b.extend_from_slice(&csize.to_le_bytes());
        b.extend_from_slice(&usize_.to_le_bytes());
        b.extend_from_slice(&1u16.to_le_bytes());
        b.extend_from_slice(&(extra.len() as u16).to_le_bytes());
        b.push(b'x');
        b.extend_from_slice(extra);
        b
    }

    #[test]
    fn plain_header_fields_are_read_as_written() {
        let h = parse(&header(10, 20, &[1, 0, 0, 0]));
        assert_eq!((h.flags, h.method, h.crc32), (0x0800, 8, 0xDEAD_BEEF));
        assert_eq!(
            (h.compressed_size, h.uncompressed_size, h.len),
            (10, 20, 35)
        );
        assert_eq!((h.version_needed, &h.name[..]), (45, &b"x"[..]));
        assert_eq!(h.extra, [1, 0, 0, 0]);
    }
}
