//! Where an entry's bytes are: its local header, found at the central record's offset
//! and held to it (name, method, flags, CRC, sizes, extra fields), its data, and its
//! data descriptor, held to the central record too. Streaming readers take all of
//! these from the local side, central-directory readers from the central one, so any
//! disagreement is two archives in one.

use super::source::ReadAt;
use std::path::Path;

use super::coverage::Span;
use super::error::UnzipError;
use super::format::central::Fixed;
use super::format::descriptor;
use super::format::extra::{self, Header, Resolved};
use super::format::local_header::{self, Found, LocalHeader};
use super::kind;
use super::reader::read_up_to_at;
use super::vocabulary::Method;

/// General purpose flag bit 3: CRC and sizes follow the data (APPNOTE 4.4.4).
pub(crate) const FLAG_DATA_DESCRIPTOR: u16 = 1 << 3;

/// The archive as the placement checks see it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Archive<'a> {
    pub(crate) file: &'a dyn ReadAt,
    /// Its path, for errors.
    pub(crate) path: &'a Path,
    /// Where the central directory starts: every entry's bytes end by there.
    pub(crate) cd_start: u64,
    /// The entries placed so far (to name the one sharing a local header).
    pub(crate) earlier: &'a [Span],
}

/// What the central directory declares about an entry's content.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Declared {
    pub(crate) method: Method,
    pub(crate) flags: u16,
    pub(crate) size: u64,
    pub(crate) compressed: u64,
    pub(crate) crc32: u32,
}

/// Where an entry's bytes are, once its local header and descriptor are checked.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Placed {
    pub(crate) header_start: u64,
    pub(crate) data_start: u64,
    /// One past the entry's last byte (its data, or its data descriptor).
    pub(crate) end: u64,
    /// The local header has a Unicode Path field.
    pub(crate) unicode_path: bool,
    /// A data descriptor with 4-byte sizes follows the data.
    pub(crate) narrow_descriptor: bool,
}

/// The local header must exist, lie before the central directory, belong to this
/// entry alone and agree with the central record, its extra fields included; with
/// flag bit 3, the data descriptor after the data must agree too. Returns where
/// the entry's bytes are.
///
/// Flags are compared whole, bit 3 included: every streaming writer seen
/// (CPython, Info-ZIP, Java, the zip crate) sets it in both headers, and a
/// difference would leave readers disagreeing on whether a descriptor follows
/// (streaming readers go by the local flag, the zip crate's checks by the
/// central one). Bit 3 only excuses zeros in the local CRC and sizes.
pub(crate) fn place(
    at: &Archive<'_>,
    index: usize,
    name: &str,
    fixed: &Fixed,
    central: &Resolved,
    declared: &Declared,
) -> Result<Placed, UnzipError> {
    let cd_start = at.cd_start;
    let header_start = central.offset;
    let out_of_bounds = || UnzipError::EntryOutOfBounds {
        index,
        name: name.to_owned(),
    };
    if header_start.saturating_add(30) > cd_start {
        return Err(out_of_bounds());
    }
    // Two central entries on one local header (the "full overlap" of zip bombs)
    // would show as a local mismatch on the second: name it for what it is. Only
    // searched on that error path, so it costs nothing on honest archives.
    let mismatch = |field| match at.earlier.iter().find(|s| s.start == header_start) {
        Some(other) => UnzipError::OverlappingEntries {
            index,
            name: name.to_owned(),
            other: other.index,
        },
        None => UnzipError::LocalHeaderMismatch {
            index,
            name: name.to_owned(),
            field,
        },
    };
    let local = match local_header::read(at.file, header_start, usize::from(fixed.name_len))
        .map_err(UnzipError::read(at.path))?
    {
        Found::Header(local) => local,
        Found::Truncated => return Err(out_of_bounds()),
        Found::BadSignature => return Err(mismatch("signature")),
    };
    // `name` is the central record's raw name, byte for byte.
    if local.name != name.as_bytes() {
        return Err(mismatch("name"));
    }
    let raw = extra::Raw {
        name: &local.name,
        uncompressed: local.uncompressed_size,
        compressed: local.compressed_size,
        offset: None,
        disk: None,
        made_by: fixed.made_by,
        external: fixed.external,
        fallback_host: (local.version_needed >> 8) as u8,
    };
    let sizes = extra::check(&local.extra, &raw)
        .map_err(|problem| problem.error(index, name, Header::Local))?;
    if let Some(field) = local_disagreement(&local, &sizes, declared) {
        return Err(mismatch(field));
    }
    let data_start = header_start + local.len;
    let data_end = data_start
        .checked_add(declared.compressed)
        .filter(|&end| end <= cd_start)
        .ok_or_else(out_of_bounds)?;
    let end = if declared.flags & FLAG_DATA_DESCRIPTOR != 0 {
        let found = descriptor::read(at.file, data_end, sizes.zip64, cd_start)
            .map_err(UnzipError::read(at.path))?
            .ok_or_else(out_of_bounds)?;
        let field = if found.crc32 != declared.crc32 {
            Some("crc")
        } else if found.compressed_size != declared.compressed {
            Some("compressed size")
        } else if found.uncompressed_size != declared.size {
            Some("uncompressed size")
        } else {
            None
        };
        if let Some(field) = field {
            return Err(UnzipError::DataDescriptorMismatch {
                index,
                name: name.to_owned(),
                field,
            });
        }
        data_end + found.len
    } else {
        data_end
    };
    Ok(Placed {
        header_start,
        data_start,
        end,
        unicode_path: sizes.unicode_path,
        narrow_descriptor: declared.flags & FLAG_DATA_DESCRIPTOR != 0 && !sizes.zip64,
    })
}

/// A directory's few deflated bytes must be one empty stream and nothing else.
pub(crate) fn check_empty_stream(
    at: &Archive<'_>,
    index: usize,
    name: &str,
    placed: &Placed,
    declared: &Declared,
) -> Result<(), UnzipError> {
    // `directory_data` bounded the size by a small constant.
    let mut bytes = vec![0u8; usize::try_from(declared.compressed).unwrap_or(0)];
    let got =
        read_up_to_at(at.file, &mut bytes, placed.data_start).map_err(UnzipError::read(at.path))?;
    if got != bytes.len() || !kind::is_empty_deflate_stream(&bytes) {
        return Err(UnzipError::DirectoryWithData {
            index,
            name: name.to_owned(),
        });
    }
    Ok(())
}

/// The first field in which the local header disagrees with the central record, if
/// any (the names were compared before). With flag bit 3 the local CRC and sizes may
/// be zero (the descriptor has them).
fn local_disagreement(
    local: &LocalHeader,
    sizes: &Resolved,
    declared: &Declared,
) -> Option<&'static str> {
    let deferred = declared.flags & FLAG_DATA_DESCRIPTOR != 0;
    let agrees = |local: u64, central: u64| local == central || (deferred && local == 0);
    if local.method != declared.method.number() {
        Some("method")
    } else if local.flags != declared.flags {
        Some("flags")
    } else if !agrees(u64::from(local.crc32), u64::from(declared.crc32)) {
        Some("crc")
    } else if !agrees(sizes.compressed, declared.compressed) {
        Some("compressed size")
    } else if !agrees(sizes.uncompressed, declared.size) {
        Some("uncompressed size")
    } else {
        None
    }
}
