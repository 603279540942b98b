//! The data descriptor that follows an entry's data when general purpose flag bit 3
//! is set (APPNOTE 4.3.9).
//!
//! Streaming writers do not know the CRC and sizes when they write the local header,
//! so they write zeros there and these values after the data. Central-directory
//! readers never look at the descriptor; streaming readers trust it. So the plan reads
//! it, refuses it unless it agrees with the central directory, and counts its bytes as
//! the entry's own (no byte of the file belongs to no entry).
//!
//! | offset | size  | field                                        |
//! |--------|-------|----------------------------------------------|
//! | 0      | 4     | signature `PK\x07\x08` (optional)            |
//! | +0     | 4     | CRC-32                                       |
//! | +4     | 4 / 8 | compressed size (8 with a zip64 local header) |
//! | +8/12  | 4 / 8 | uncompressed size                            |
//!
//! Two choices make the reading deterministic:
//!
//! - **Width.** Sizes are 8 bytes exactly when the local header carries a zip64
//!   extra field (APPNOTE 4.3.9.2), as CPython, Info-ZIP and the zip crate write
//!   them; otherwise 4.
//! - **Signature.** The signature is optional, so a descriptor without it whose CRC
//!   happens to be `0x08074b50` reads both ways. Like every streaming reader, we take
//!   four bytes equal to the signature as the signature. Such a descriptor then
//!   disagrees with the central directory and is refused (one archive in four billion
//!   from a writer that omits the signature; CPython, Info-ZIP, Java and the zip crate
//!   all write it).

use crate::unzip::source::ReadAt;
use std::io;

use crate::unzip::reader::read_up_to_at;

pub(crate) const SIGNATURE: [u8; 4] = *b"PK\x07\x08";
/// The longest form: signature, CRC and two 8-byte sizes.
const MAX_LEN: usize = 24;

/// A parsed data descriptor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Descriptor {
    pub(crate) crc32: u32,
    pub(crate) compressed_size: u64,
    pub(crate) uncompressed_size: u64,
    /// Its length in the file: 12, 16, 20 or 24 bytes.
    pub(crate) len: u64,
}

/// Reads the descriptor at `offset`, which must end by `limit` (the start of the
/// central directory). `None` if it does not fit.
pub(crate) fn read(
    file: &dyn ReadAt,
    offset: u64,
    zip64: bool,
    limit: u64,
) -> io::Result<Option<Descriptor>> {
    let room = limit.saturating_sub(offset).min(MAX_LEN as u64) as usize;
    let mut buf = [0u8; MAX_LEN];
    let got = read_up_to_at(file, &mut buf[..room], offset)?;
    Ok(parse(&buf[..got], zip64))
}

/// Parses a descriptor from the start of `b` (which may hold bytes after it).
pub(crate) fn parse(b: &[u8], zip64: bool) -> Option<Descriptor> {
    let signed = b.len() >= 4 && b[..4] == SIGNATURE;
    let start = if signed { 4 } else { 0 };
    let width = if zip64 { 8 } else { 4 };
    let len = start + 4 + 2 * width;
    let fields = b.get(start..len)?;
    let size = |at: usize| {
        let mut le = [0u8; 8];
        le[..width].copy_from_slice(&fields[at..at + width]);
        u64::from_le_bytes(le)
    };
    Some(Descriptor {
        crc32: u32::from_le_bytes([fields[0], fields[1], fields[2], fields[3]]),
        compressed_size: size(4),
        uncompressed_size: size(4 + width),
        len: len as u64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_descriptor_is_read_with_its_signature() {
        let mut b = SIGNATURE.to_vec();
        b.extend_from_slice(&0xDEAD_BEEFu32.to_le_bytes());
        b.extend_from_slice(&10u32.to_le_bytes());
        b.extend_from_slice(&20u32.to_le_bytes());
        let d = parse(&b, false).unwrap();
        assert_eq!(
            (d.crc32, d.compressed_size, d.uncompressed_size, d.len),
            (0xDEAD_BEEF, 10, 20, 16)
        );
    }

    #[test]
    fn an_unsigned_zip64_descriptor_has_eight_byte_sizes() {
        let mut b = 7u32.to_le_bytes().to_vec();
        b.extend_from_slice(&(5u64 << 32).to_le_bytes());
        b.extend_from_slice(&(6u64 << 32).to_le_bytes());
        let d = parse(&b, true).unwrap();
        assert_eq!(
            (d.crc32, d.compressed_size, d.uncompressed_size, d.len),
            (7, 5 << 32, 6 << 32, 20)
        );
    }

    #[test]
    fn a_crc_equal_to_the_signature_is_taken_for_the_signature() {
        let mut b = SIGNATURE.to_vec(); // meant as the CRC of an unsigned descriptor
        b.extend_from_slice(&3u32.to_le_bytes());
        b.extend_from_slice(&3u32.to_le_bytes());
        b.extend_from_slice(b"PK\x03\x04");
        let d = parse(&b, false).unwrap();
        assert_eq!((d.crc32, d.compressed_size, d.len), (3, 3, 16));
    }

    #[test]
    fn a_descriptor_cut_short_is_none() {
        assert_eq!(parse(&SIGNATURE, false), None);
        assert_eq!(parse(&[0; 11], false), None);
    }
}
