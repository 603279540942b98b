//! What an entry is, from its name, its Unix mode and its DOS attributes, and the
//! rule that a directory carries no data.
//!
//! Readers decide "directory" differently: CPython and Info-ZIP by a trailing `/`,
//! libarchive by the Unix mode, Windows tools by the DOS attribute. An entry is
//! accepted only where they all agree (see the table on [`Kind`]).

use flate2::{Decompress, FlushDecompress, Status};

use super::error::UnzipError;
use super::plan::Method;

/// Unix file type bits of `st_mode`.
const S_IFMT: u32 = 0o170_000;
const S_IFREG: u32 = 0o100_000;
const S_IFDIR: u32 = 0o040_000;
const S_IFLNK: u32 = 0o120_000;
/// The DOS directory attribute, in the low byte of the external attributes.
const DOS_DIRECTORY: u32 = 0x10;
/// Longest compressed form of "nothing" a directory may carry. An empty deflate
/// stream is 2 bytes from zlib (`03 00`: CPython's `writestr("d/", "")` in a
/// deflated archive) and 5 from writers that close with an empty stored block.
const EMPTY_STREAM_MAX: u64 = 16;

/// The kind of an entry that passed [`classify`].
///
/// | name ends with `/` | Unix file type        | DOS attribute 0x10 | kind                                  |
/// |--------------------|-----------------------|--------------------|---------------------------------------|
/// | yes                | none, regular or dir  | any                | `Dir`                                 |
/// | no                 | none or regular       | clear              | `File`                                |
/// | no                 | directory             | any                | refused: [`UnzipError::DirectoryWithoutSlash`] |
/// | no                 | none or regular       | set                | refused: [`UnzipError::DirectoryWithoutSlash`] |
/// | any                | symbolic link         | any                | refused: [`UnzipError::Symlink`]      |
/// | any                | device, FIFO, socket  | any                | refused: [`UnzipError::SpecialFile`]  |
///
/// A name whose last component is `.` or `..` counts as ending with `/` (it can only
/// name a directory).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A regular file; executable when its Unix mode has an execute bit.
    File {
        executable: bool,
    },
    Dir,
}

/// Classifies entry `index`. `names_dir` is the name's own verdict (trailing `/`),
/// `unix_mode` the mode when the archive was made on Unix, `attributes` the external
/// attributes.
pub(crate) fn classify(
    index: usize,
    name: &str,
    names_dir: bool,
    unix_mode: Option<u32>,
    attributes: u32,
) -> Result<Kind, UnzipError> {
    let file_type = unix_mode.map_or(0, |m| m & S_IFMT);
    let mode_dir = match file_type {
        0 | S_IFREG => false,
        S_IFDIR => true,
        // A link can redirect later writes outside `dest`.
        S_IFLNK => {
            return Err(UnzipError::Symlink {
                index,
                name: name.to_owned(),
            });
        }
        _ => {
            return Err(UnzipError::SpecialFile {
                index,
                name: name.to_owned(),
                mode: unix_mode.unwrap_or(0),
            });
        }
    };
    if names_dir {
        return Ok(Kind::Dir);
    }
    if mode_dir || attributes & DOS_DIRECTORY != 0 {
        return Err(UnzipError::DirectoryWithoutSlash {
            index,
            name: name.to_owned(),
        });
    }
    Ok(Kind::File {
        executable: unix_mode.is_some_and(|m| m & 0o111 != 0),
    })
}

/// What a directory entry's declared values allow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DirData {
    /// No compressed bytes at all.
    None,
    /// A few deflated bytes that must turn out to be one empty stream.
    EmptyStream,
}

/// A directory must declare nothing: no content, CRC 0, and no compressed bytes
/// except a short deflated empty stream. Every reader drops a directory's bytes, so
/// any content there is hidden from all of them.
pub(crate) fn directory_data(
    index: usize,
    name: &str,
    method: Method,
    size: u64,
    compressed: u64,
    crc32: u32,
) -> Result<DirData, UnzipError> {
    match (size, crc32, compressed, method) {
        (0, 0, 0, _) => Ok(DirData::None),
        (0, 0, 1..=EMPTY_STREAM_MAX, Method::Deflated) => Ok(DirData::EmptyStream),
        _ => Err(UnzipError::DirectoryWithData {
            index,
            name: name.to_owned(),
        }),
    }
}

/// Whether `bytes` is exactly one raw deflate stream that inflates to nothing.
pub(crate) fn is_empty_deflate_stream(bytes: &[u8]) -> bool {
    let mut inflater = Decompress::new(false);
    let mut out = [0u8; 1];
    matches!(
        inflater.decompress(bytes, &mut out, FlushDecompress::Finish),
        Ok(Status::StreamEnd)
    ) && inflater.total_out() == 0
        && inflater.total_in() == bytes.len() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_usual_empty_deflate_streams_are_recognised() {
        assert!(is_empty_deflate_stream(&[0x03, 0x00]));
        assert!(is_empty_deflate_stream(&[0x01, 0x00, 0x00, 0xFF, 0xFF]));
    }

    #[test]
    fn a_stream_with_content_or_trailing_bytes_is_not_empty() {
        assert!(!is_empty_deflate_stream(&[0x03, 0x00, 0x00]));
        assert!(!is_empty_deflate_stream(&[
            0x01, 0x01, 0x00, 0xFE, 0xFF, b'x'
        ]));
        assert!(!is_empty_deflate_stream(&[0x03]));
        assert!(!is_empty_deflate_stream(&[]));
    }

    #[test]
    fn a_mode_or_attribute_that_says_directory_needs_a_slash() {
        assert!(matches!(
            classify(0, "d/", true, Some(0o040755), 0x10),
            Ok(Kind::Dir)
        ));
        assert!(matches!(
            classify(0, "d/", true, Some(0o100644), 0),
            Ok(Kind::Dir)
        ));
        assert!(matches!(
            classify(0, "d", false, Some(0o040755), 0),
            Err(UnzipError::DirectoryWithoutSlash { .. })
        ));
        assert!(matches!(
            classify(0, "d", false, None, 0x10),
            Err(UnzipError::DirectoryWithoutSlash { .. })
        ));
        assert!(matches!(
            classify(0, "f", false, Some(0o100755), 0x20),
            Ok(Kind::File { executable: true })
        ));
    }
}
