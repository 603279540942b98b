//! What an entry is, from its name, its Unix mode and its DOS attributes, and the
//! rule that a directory carries no data.
//!
//! Readers decide "directory" and "link" differently: CPython and Info-ZIP by a
//! trailing `/`, libarchive by the Unix mode when the host byte says Unix, Windows
//! tools by the DOS attribute; Info-ZIP makes symbolic links from the Unix mode under
//! six host bytes (0 with DOS attributes that match the mode, 2, 3, 5, 16 and 30) and
//! takes DOS attribute 0x08 for a volume label it skips. So the upper 16 bits of the
//! external attributes are read as a Unix mode *whatever the host byte*, and an entry
//! is accepted only where every reader agrees it is a regular file or a directory
//! (see the table on [`Kind`]). The extra fields that carry a mode of their own
//! (libarchive's `xl`, ASi's Unix field) are held to the same mode by `format/extra.rs`.

use flate2::{Decompress, FlushDecompress, Status};

use super::error::UnzipError;
use super::plan::Method;

/// Unix file type bits of `st_mode`.
const S_IFMT: u32 = 0o170_000;
const S_IFREG: u32 = 0o100_000;
const S_IFDIR: u32 = 0o040_000;
const S_IFLNK: u32 = 0o120_000;
/// The host byte of "version made by" for Unix (APPNOTE 4.4.2.2).
const HOST_UNIX: u8 = 3;
/// DOS attributes, in the low byte of the external attributes.
const DOS_VOLUME_LABEL: u32 = 0x08;
const DOS_DIRECTORY: u32 = 0x10;
/// Longest compressed form of "nothing" a directory may carry. An empty deflate
/// stream is 2 bytes from zlib (`03 00`: CPython's `writestr("d/", "")` in a
/// deflated archive) and 5 from writers that close with an empty stored block.
const EMPTY_STREAM_MAX: u64 = 16;

/// The kind of an entry that passed [`classify`]. "Unix type" is the file type of
/// the upper 16 bits of the external attributes, whatever the host byte.
///
/// | name ends with `/` | Unix type             | DOS attributes | kind                                  |
/// |--------------------|-----------------------|----------------|---------------------------------------|
/// | yes                | none, regular or dir  | no 0x08        | `Dir`                                 |
/// | no                 | none or regular       | neither 0x08 nor 0x10 | `File`                         |
/// | no                 | directory             | any            | refused: [`UnzipError::DirectoryWithoutSlash`] |
/// | no                 | none or regular       | 0x10           | refused: [`UnzipError::DirectoryWithoutSlash`] |
/// | any                | symbolic link         | any            | refused: [`UnzipError::Symlink`] (host Unix), [`UnzipError::AmbiguousType`] (any other host) |
/// | any                | device, FIFO, socket  | any            | refused: [`UnzipError::SpecialFile`] (host Unix), [`UnzipError::AmbiguousType`] (any other host) |
/// | any                | none, regular or dir  | 0x08           | refused: [`UnzipError::AmbiguousType`] (a volume label to Info-ZIP) |
///
/// A name whose last component is `.` or `..` counts as ending with `/` (it can only
/// name a directory).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A regular file; executable when its host is Unix and its mode has an execute
    /// bit.
    File {
        executable: bool,
    },
    Dir,
}

/// Classifies entry `index`. `names_dir` is the name's own verdict (trailing `/`),
/// `host` the host byte of "version made by", `external` the external attributes.
pub(crate) fn classify(
    index: usize,
    name: &str,
    names_dir: bool,
    host: u8,
    external: u32,
) -> Result<Kind, UnzipError> {
    let mode = external >> 16;
    let ambiguous = |kind: &'static str, why: String| UnzipError::AmbiguousType {
        index,
        name: name.to_owned(),
        kind,
        why,
    };
    let under_host = || {
        format!(
            "the Unix mode {mode:#o} under host byte {host}; Info-ZIP reads the mode under \
             host bytes 0, 2, 3, 5, 16 and 30, and any reader may under others"
        )
    };
    let mode_dir = match mode & S_IFMT {
        0 | S_IFREG => false,
        S_IFDIR => true,
        // A link can redirect later writes outside `dest`.
        S_IFLNK if host == HOST_UNIX => {
            return Err(UnzipError::Symlink {
                index,
                name: name.to_owned(),
            });
        }
        S_IFLNK => return Err(ambiguous("symbolic link", under_host())),
        _ if host == HOST_UNIX => {
            return Err(UnzipError::SpecialFile {
                index,
                name: name.to_owned(),
                mode,
            });
        }
        _ => return Err(ambiguous("special file", under_host())),
    };
    // Info-ZIP skips a "volume label" (for DOS, OS/2, NTFS and Atari hosts): a file
    // every other reader writes.
    if external & DOS_VOLUME_LABEL != 0 {
        return Err(ambiguous(
            "volume label",
            "DOS attribute 0x08, which Info-ZIP takes for a volume label and skips".to_owned(),
        ));
    }
    if names_dir {
        return Ok(Kind::Dir);
    }
    if mode_dir || external & DOS_DIRECTORY != 0 {
        return Err(UnzipError::DirectoryWithoutSlash {
            index,
            name: name.to_owned(),
        });
    }
    Ok(Kind::File {
        executable: host == HOST_UNIX && mode & 0o111 != 0,
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
        let unix = |mode: u32, dos: u32| mode << 16 | dos;
        assert!(matches!(
            classify(0, "d/", true, 3, unix(0o040755, 0x10)),
            Ok(Kind::Dir)
        ));
        assert!(matches!(
            classify(0, "d/", true, 3, unix(0o100644, 0)),
            Ok(Kind::Dir)
        ));
        assert!(matches!(
            classify(0, "d", false, 3, unix(0o040755, 0)),
            Err(UnzipError::DirectoryWithoutSlash { .. })
        ));
        assert!(matches!(
            classify(0, "d", false, 0, 0x10),
            Err(UnzipError::DirectoryWithoutSlash { .. })
        ));
        assert!(matches!(
            classify(0, "f", false, 3, unix(0o100755, 0x20)),
            Ok(Kind::File { executable: true })
        ));
    }

    #[test]
    fn a_link_or_special_mode_is_refused_whatever_the_host_byte() {
        for host in [0, 2, 5, 11, 19, 255] {
            for (mode, kind) in [(0o120777, "symbolic link"), (0o010644, "special file")] {
                assert!(matches!(
                    classify(0, "x", false, host, mode << 16),
                    Err(UnzipError::AmbiguousType { kind: k, .. }) if k == kind
                ));
            }
        }
        assert!(matches!(
            classify(0, "x", false, 3, 0o120777 << 16),
            Err(UnzipError::Symlink { .. })
        ));
        assert!(matches!(
            classify(0, "x", false, 3, 0o060644 << 16),
            Err(UnzipError::SpecialFile { .. })
        ));
        // Only a Unix host's mode makes a file executable.
        assert!(matches!(
            classify(0, "f", false, 0, 0o100755 << 16),
            Ok(Kind::File { executable: false })
        ));
    }

    #[test]
    fn a_volume_label_attribute_is_refused() {
        assert!(matches!(
            classify(0, "x", false, 0, 0x08),
            Err(UnzipError::AmbiguousType {
                kind: "volume label",
                ..
            })
        ));
    }
}
