//! The archive's skeleton, read before any central record: the one end
//! record, the zip64 end record and its locator, and the central directory's extent
//! and record count.
//!
//! Readers find a zip archive from its end, and they do not all do it the same way.
//! CPython's `zipfile` takes the *last* `PK\x05\x06` in the final 64 KiB, uses the
//! zip64 end record it finds 76 bytes before it (ignoring the locator's offset), shifts
//! every offset by the bytes it finds before the central directory, and walks the
//! central directory by its declared *size*. The zip crate scans backwards and falls
//! back to earlier candidates, trusts the locator, and walks by the declared *count*.
//! A streaming reader ignores all of it and walks local headers from offset 0. So this
//! module accepts only the one layout on which all of them agree:
//!
//! ```text
//! 0                                      cd_start          cd_end
//! | entries (checked by the plan) ...    | central records | [zip64 end record | locator] | end record | comment | EOF
//! ```
//!
//! with no byte before the first entry, no byte between the structures, and the
//! comment ending exactly at the end of the file. Each refusal below names the reader
//! differential it closes.
//!
//! Allocations: the last `22 + 65,535` bytes (the largest possible end record and
//! comment) and a 64 KiB read buffer, whatever the archive declares.

use crate::unzip::source::{Cursor, ReadAt};
use std::borrow::Cow;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use super::bytes::{u16_at, u32_at, u64_at};
use super::central::{FIXED_LEN as CENTRAL_FIXED_LEN, SIGNATURE as CENTRAL_SIGNATURE};
use super::local_header::SIGNATURE as LOCAL_SIGNATURE;
use crate::unzip::error::UnzipError;
use crate::unzip::reader::read_up_to_at;

/// `PK\x05\x06`, the end of central directory record (APPNOTE 4.3.16).
pub(crate) const END_SIGNATURE: u32 = 0x0605_4b50;
/// The end record's length without its comment.
pub(crate) const END_LEN: u64 = 22;
/// `PK\x06\x07`, the zip64 end of central directory locator (APPNOTE 4.3.15).
const LOCATOR_SIGNATURE: u32 = 0x0706_4b50;
const LOCATOR_LEN: u64 = 20;
/// `PK\x06\x06`, the zip64 end of central directory record (APPNOTE 4.3.14), in its
/// version 1 form: 56 bytes, no extensible data.
pub(crate) const ZIP64_END_SIGNATURE: u32 = 0x0606_4b50;
const ZIP64_END_LEN: u64 = 56;

/// Signatures that must not appear in the archive comment, each a record some reader
/// would act on: a second end record is what a backwards scanner finds first, and the
/// others are the pieces of a second archive hidden in the comment.
const COMMENT_FORBIDDEN: [(u32, &str); 5] = [
    (END_SIGNATURE, "end of central directory"),
    (ZIP64_END_SIGNATURE, "zip64 end of central directory"),
    (LOCATOR_SIGNATURE, "zip64 end of central directory locator"),
    (CENTRAL_SIGNATURE, "central directory record"),
    (LOCAL_SIGNATURE, "local file header"),
];

/// Where the central directory is and how many records it holds, once every check
/// of this module passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Layout {
    /// Offset of the first central record, which is also the end of the entries' area.
    pub(crate) cd_start: u64,
    /// One past the last central record: where the (zip64) end record starts.
    pub(crate) cd_end: u64,
    /// Central records that fill `cd_start..cd_end`, equal to every declared count.
    pub(crate) entries: u64,
    /// The archive's length, which the end record's comment ends.
    pub(crate) file_len: u64,
}

/// The fields of an end record that locate the central directory, widened to 64 bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Declared {
    disk: u64,
    cd_disk: u64,
    entries_on_disk: u64,
    entries: u64,
    cd_size: u64,
    cd_offset: u64,
}

/// Reads and checks the end records and the central directory's extent and count.
///
/// # Errors
///
/// [`UnzipError::CentralDirectory`] when there is no end record at all (not a zip, or
/// cut off); the structure variants ([`UnzipError::CommentNotAtEnd`],
/// [`UnzipError::SignatureInComment`], [`UnzipError::EndRecordMismatch`],
/// [`UnzipError::Prefix`], [`UnzipError::CentralDirectoryExtent`],
/// [`UnzipError::CentralDirectoryJunk`], [`UnzipError::EntryCountMismatch`]) for the
/// rest; [`UnzipError::ReadArchive`] on I/O errors.
pub(crate) fn read(file: &dyn ReadAt, archive: &Path) -> Result<Layout, UnzipError> {
    let read_err = UnzipError::read(archive);
    let file_len = file.size().map_err(read_err)?;
    let end = find_end_record(file, archive, file_len)?;
    let end_at = end.offset;
    let zip64 = read_zip64(file, end_at).map_err(read_err)??;
    check_single_disk("end record", &end.declared, zip64.is_some())?;
    let (declared, records_start) = match &zip64 {
        Some(zip64) => {
            check_single_disk("zip64 end record", &zip64.declared, false)?;
            (zip64.resolve(&end.declared)?, zip64.offset)
        }
        None => (end.declared, end_at),
    };

    // The central directory must end exactly where the end records begin. CPython
    // and the zip crate both take a shortfall for bytes prepended to the archive and
    // shift every offset by it; a streaming reader starting at offset 0 does not.
    let declared_end = declared.cd_offset.checked_add(declared.cd_size);
    match declared_end {
        Some(cd_end) if cd_end < records_start => {
            return Err(UnzipError::Prefix {
                len: records_start - cd_end,
            });
        }
        Some(cd_end) if cd_end == records_start => {}
        _ => {
            return Err(UnzipError::CentralDirectoryExtent {
                start: declared.cd_offset,
                size: declared.cd_size,
                end_records: records_start,
            });
        }
    }
    let (cd_start, cd_end) = (declared.cd_offset, records_start);

    // Junk among the records, or a record running past the declared size: CPython
    // walks by size and trips over it (or reads past), the zip crate never sees it.
    let reader = BufReader::with_capacity(64 << 10, Cursor::new(file));
    let found = match count_records(reader, cd_start, cd_end).map_err(read_err)? {
        Ok(count) => count,
        Err(offset) => return Err(UnzipError::CentralDirectoryJunk { offset }),
    };
    // CPython walks the central directory by its size, the zip crate by the count:
    // with a count that is short, they list different entries. The 32-bit count may
    // be saturated when a zip64 record holds the real one.
    let narrow = end.declared.entries;
    if narrow != found && !(zip64.is_some() && narrow == 0xFFFF) {
        return Err(UnzipError::EntryCountMismatch {
            record: "end record",
            declared: narrow,
            found,
        });
    }
    if zip64.is_some() && declared.entries != found {
        return Err(UnzipError::EntryCountMismatch {
            record: "zip64 end record",
            declared: declared.entries,
            found,
        });
    }
    Ok(Layout {
        cd_start,
        cd_end,
        entries: found,
        file_len,
    })
}

/// The end record as found.
#[derive(Debug)]
struct EndRecord {
    offset: u64,
    declared: Declared,
}

/// Finds the one plausible end record: the last `PK\x05\x06` in the final
/// `22 + 65,535` bytes (what CPython and every backwards scanner take), whose comment
/// ends exactly at the end of the file, with no record signature in that comment.
fn find_end_record(
    file: &dyn ReadAt,
    archive: &Path,
    file_len: u64,
) -> Result<EndRecord, UnzipError> {
    let window = file_len.min(END_LEN + u64::from(u16::MAX));
    let base = file_len - window;
    // `window` is at most 65,557: a constant bound, not a declared size.
    let mut tail = vec![0u8; window as usize];
    let got = read_up_to_at(file, &mut tail, base).map_err(UnzipError::read(archive))?;
    tail.truncate(got);
    let whole = |at: usize| at + END_LEN as usize <= tail.len();
    let Some(at) = (0..tail.len().saturating_sub(3))
        .rev()
        .find(|&at| u32_at(&tail, at) == END_SIGNATURE && whole(at))
    else {
        return Err(UnzipError::CentralDirectory {
            archive: archive.to_owned(),
            source: zip::result::ZipError::InvalidArchive(Cow::Borrowed(
                "no end of central directory record: not a zip archive, or cut short",
            )),
        });
    };
    let offset = base + at as u64;
    let comment_len = u16_at(&tail, at + 20);
    let comment_end = offset + END_LEN + u64::from(comment_len);
    // CPython accepts bytes after the comment (and a comment cut short); Info-ZIP
    // warns; a reader that insists on the end may look for another record.
    if comment_end != file_len {
        return Err(UnzipError::CommentNotAtEnd {
            end_record: offset,
            comment_len,
            file_len,
        });
    }
    check_comment(&tail, base, at)?;
    // An earlier record whose comment also ends at the end of the file holds this one
    // in its comment: a second archive appended as a comment. A reader that stops at
    // the first plausible record (forward scanners) reads the outer archive,
    // CPython and the zip crate the inner one.
    if let Some(earlier) = pk_positions(&tail[..at + 3]).find(|&p| {
        p < at
            && u32_at(&tail, p) == END_SIGNATURE
            && base + p as u64 + END_LEN + u64::from(u16_at(&tail, p + 20)) == file_len
    }) {
        return Err(UnzipError::SignatureInComment {
            end_record: base + earlier as u64,
            offset,
            signature: "end of central directory",
        });
    }
    let b = &tail[at..at + END_LEN as usize];
    Ok(EndRecord {
        offset,
        declared: Declared {
            disk: u64::from(u16_at(b, 4)),
            cd_disk: u64::from(u16_at(b, 6)),
            entries_on_disk: u64::from(u16_at(b, 8)),
            entries: u64::from(u16_at(b, 10)),
            cd_size: u64::from(u32_at(b, 12)),
            cd_offset: u64::from(u32_at(b, 16)),
        },
    })
}

/// Positions in `b` where four bytes starting with `PK` begin: where any record
/// signature could be. One byte compare per position, so scanning the 64 KiB tail
/// costs microseconds.
fn pk_positions(b: &[u8]) -> impl Iterator<Item = usize> + '_ {
    let ends = b.len().saturating_sub(3);
    b[..ends]
        .iter()
        .enumerate()
        .filter(|&(at, &byte)| byte == b'P' && b[at + 1] == b'K')
        .map(|(at, _)| at)
}

/// Refuses a record signature in the comment of the end record at `tail[at..]`.
fn check_comment(tail: &[u8], base: u64, at: usize) -> Result<(), UnzipError> {
    let comment = &tail[at + END_LEN as usize..];
    for pos in pk_positions(comment) {
        let word = u32_at(comment, pos);
        if let Some(&(_, signature)) = COMMENT_FORBIDDEN.iter().find(|(sig, _)| *sig == word) {
            return Err(UnzipError::SignatureInComment {
                end_record: base + at as u64,
                offset: base + (at + END_LEN as usize + pos) as u64,
                signature,
            });
        }
    }
    Ok(())
}

/// A zip64 end record and locator that passed their own checks.
#[derive(Debug)]
struct Zip64 {
    /// Where the zip64 end record starts (76 bytes before the end record).
    offset: u64,
    declared: Declared,
}

/// The zip64 records, none, or why they were refused.
type Zip64Result = Result<Option<Zip64>, UnzipError>;

fn zip64_mismatch(record: &'static str, field: &'static str) -> UnzipError {
    UnzipError::EndRecordMismatch { record, field }
}

/// Reads the zip64 locator right before the end record at `end_at`, if its signature
/// is there, and the zip64 end record it must point at.
///
/// CPython reads the zip64 end record at `end_at - 20 - 56` whatever the locator
/// says, and falls back to the 32-bit values when no signature is there; the zip
/// crate follows the locator and accepts extensible data. They agree only when the
/// zip64 end record is exactly 56 bytes, immediately before the locator, and the
/// locator points at it: anything else is refused.
fn read_zip64(file: &dyn ReadAt, end_at: u64) -> io::Result<Zip64Result> {
    let Some(locator_at) = end_at.checked_sub(LOCATOR_LEN) else {
        return Ok(Ok(None));
    };
    let mut locator = [0u8; LOCATOR_LEN as usize];
    if read_up_to_at(file, &mut locator, locator_at)? < locator.len()
        || u32_at(&locator, 0) != LOCATOR_SIGNATURE
    {
        return Ok(Ok(None));
    }
    let locator_record = "zip64 end record locator";
    if u32_at(&locator, 4) != 0 || u32_at(&locator, 16) > 1 {
        return Ok(Err(zip64_mismatch(locator_record, "disk numbers")));
    }
    let Some(offset) = locator_at.checked_sub(ZIP64_END_LEN) else {
        return Ok(Err(zip64_mismatch(
            locator_record,
            "room for the zip64 end record",
        )));
    };
    if u64_at(&locator, 8) != offset {
        return Ok(Err(zip64_mismatch(
            locator_record,
            "zip64 end record offset (must be right before the locator)",
        )));
    }
    let mut b = [0u8; ZIP64_END_LEN as usize];
    read_up_to_at(file, &mut b, offset)?;
    let record = "zip64 end record";
    if u32_at(&b, 0) != ZIP64_END_SIGNATURE {
        return Ok(Err(zip64_mismatch(record, "signature")));
    }
    if u64_at(&b, 4) != ZIP64_END_LEN - 12 {
        return Ok(Err(zip64_mismatch(record, "size (extensible data)")));
    }
    Ok(Ok(Some(Zip64 {
        offset,
        declared: Declared {
            disk: u64::from(u32_at(&b, 16)),
            cd_disk: u64::from(u32_at(&b, 20)),
            entries_on_disk: u64_at(&b, 24),
            entries: u64_at(&b, 32),
            cd_size: u64_at(&b, 40),
            cd_offset: u64_at(&b, 48),
        },
    })))
}

impl Zip64 {
    /// The values to use: the zip64 record's, after checking that each field of the
    /// 32-bit end record either equals it or is saturated (`0xFFFF`, `0xFFFFFFFF`).
    /// CPython takes the zip64 values whenever the records are there; the zip crate
    /// only when a 32-bit field is saturated: they agree when the two records do.
    /// (Entry counts are compared with the central directory itself, in [`read`].)
    fn resolve(&self, end: &Declared) -> Result<Declared, UnzipError> {
        let z = &self.declared;
        let fields: [(&'static str, u64, u64, u64); 4] = [
            ("disk number", end.disk, z.disk, 0xFFFF),
            ("central directory disk", end.cd_disk, z.cd_disk, 0xFFFF),
            (
                "central directory size",
                end.cd_size,
                z.cd_size,
                0xFFFF_FFFF,
            ),
            (
                "central directory offset",
                end.cd_offset,
                z.cd_offset,
                0xFFFF_FFFF,
            ),
        ];
        for (field, narrow, wide, saturated) in fields {
            if narrow != wide && narrow != saturated {
                return Err(zip64_mismatch("end record", field));
            }
        }
        Ok(*z)
    }
}

/// Multi-disk archives are read differently by every tool (and not at all by most).
/// With `saturated`, a 32-bit field of `0xFFFF` defers to the zip64 record.
fn check_single_disk(
    record: &'static str,
    declared: &Declared,
    saturated: bool,
) -> Result<(), UnzipError> {
    let zero = |n: u64| n == 0 || (saturated && n == 0xFFFF);
    if !zero(declared.disk) || !zero(declared.cd_disk) {
        return Err(zip64_mismatch(record, "disk numbers (multi-disk archive)"));
    }
    if declared.entries_on_disk != declared.entries
        && !(saturated && declared.entries_on_disk == 0xFFFF)
    {
        return Err(zip64_mismatch(
            record,
            "entries on this disk differ from the total",
        ));
    }
    Ok(())
}

/// Counts the central records that fill `start..end` exactly; `Err(offset)` is where
/// a record is missing its signature or runs past `end`.
fn count_records<R: Read + Seek>(
    mut reader: BufReader<R>,
    start: u64,
    end: u64,
) -> io::Result<Result<u64, u64>> {
    reader.seek(SeekFrom::Start(start))?;
    let mut count = 0u64;
    let mut at = start;
    let mut fixed = [0u8; CENTRAL_FIXED_LEN];
    while at < end {
        if end - at < CENTRAL_FIXED_LEN as u64 {
            return Ok(Err(at));
        }
        reader.read_exact(&mut fixed)?;
        if u32_at(&fixed, 0) != CENTRAL_SIGNATURE {
            return Ok(Err(at));
        }
        let rest = u64::from(u16_at(&fixed, 28))
            + u64::from(u16_at(&fixed, 30))
            + u64::from(u16_at(&fixed, 32));
        if end - at < CENTRAL_FIXED_LEN as u64 + rest {
            return Ok(Err(at));
        }
        // At most 3 * 65,535: always fits an i64.
        reader.seek_relative(rest as i64)?;
        count += 1;
        at += CENTRAL_FIXED_LEN as u64 + rest;
    }
    Ok(Ok(count))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pk_positions_are_found_everywhere_including_the_last_four_bytes() {
        let b = b"PK\x05\x06xxPKPK\x01\x02PK\x05\x06";
        assert_eq!(pk_positions(b).collect::<Vec<_>>(), [0, 6, 8, 12]);
        assert_eq!(pk_positions(b"PK\x05").count(), 0);
        assert_eq!(pk_positions(b"xPK").count(), 0);
    }
}
