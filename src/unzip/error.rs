//! The unzipper's error: one variant per refusal or failure, each naming the entry
//! (index and name) or the path involved, with the I/O or decoder error as its source.
//! The variants built in many places have constructors shaped for `map_err`
//! (`.map_err(UnzipError::write(&path))`).

use std::io;
use std::path::Path;
use std::sync::Arc;

use crate::fs::FsError;

/// The I/O error out of its `Arc` (the file system layer shares its errors; the
/// unzipper's own are owned): the error itself when nobody else holds it, which is
/// always the case for an error the layer has just returned.
pub(crate) fn unshare(source: Arc<io::Error>) -> io::Error {
    Arc::try_unwrap(source)
        .unwrap_or_else(|shared| io::Error::new(shared.kind(), shared.to_string()))
}

/// Why [`Unzipper::unzip`](crate::Unzipper::unzip) did not produce its destination.
///
/// Every variant about one archive entry names it by `index` (its position in the
/// central directory, counting from 0) and `name` (the raw name as stored, decoded as
/// UTF-8, lossily where it is not). A streaming extraction
/// ([`Unzipper::unzip_reader`](crate::Unzipper::unzip_reader)) that refuses an entry
/// before the central directory has arrived numbers it by its position in the stream:
/// the same number in every archive whose central directory lists the entries in the
/// order they are stored, as writers do. Variants about the file system carry the path and the [`std::io::Error`].
///
/// Whatever the variant, the destination does not exist afterwards and the staging
/// directory has been removed, except for [`UnzipError::DestinationExists`], where the
/// destination is someone else's.
///
/// # Examples
///
/// ```
/// use inflight::{UnzipError, Unzipper};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let dir = tempfile::tempdir()?;
/// let archive = dir.path().join("evil.zip");
/// let mut zip = zip::ZipWriter::new(std::fs::File::create(&archive)?);
/// zip.start_file("../escape.txt", zip::write::SimpleFileOptions::default())?;
/// zip.finish()?;
///
/// match Unzipper::new().unzip(&archive, &dir.path().join("out")) {
///     Err(UnzipError::ParentEscape { index, name }) => {
///         assert_eq!((index, name.as_str()), (0, "../escape.txt"));
///     }
///     other => panic!("{other:?}"),
/// }
/// assert!(!dir.path().join("out").exists());
/// # Ok(())
/// # }
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum UnzipError {
    // ----- the archive as a whole -----
    /// The archive could not be opened.
    #[error("cannot open archive {archive}")]
    OpenArchive {
        /// The archive's path.
        archive: std::path::PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// The archive path names something other than a regular file: a directory, a
    /// FIFO, a socket or a device. Refused at once, without reading from it (a FIFO
    /// would block the caller, and an id's lock with it, until something writes).
    #[error("archive {archive} is not a regular file but a {kind}")]
    NotAFile {
        /// The archive's path.
        archive: std::path::PathBuf,
        /// What it is instead: `"directory"`, `"FIFO"`, `"socket"`, `"character device"`,
        /// `"block device"` or `"special file"`.
        kind: &'static str,
    },
    /// The archive could not be read at some offset (an I/O error, not bad content).
    #[error("cannot read archive {archive}")]
    ReadArchive {
        /// The archive's path.
        archive: std::path::PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// The central directory could not be found or parsed: not a zip archive, or one
    /// whose end was cut off.
    #[error("{archive} is not a readable zip archive")]
    CentralDirectory {
        /// The archive's path.
        archive: std::path::PathBuf,
        /// What the zip parser said.
        #[source]
        source: zip::result::ZipError,
    },
    /// The archive would create more file system objects (files and directories,
    /// named or implied by a path: `a/b/c.py` creates three) than
    /// [`Limits::max_entries`](crate::Limits::max_entries). Counted in the plan,
    /// before anything is written.
    #[error(
        "archive creates at least {count} files and directories, more than the limit of {limit}"
    )]
    TooManyEntries {
        /// Objects counted when the limit was crossed: the central directory's entry
        /// count when the entries alone are over the limit (refused before any record
        /// is read), otherwise files and directories up to and including the entry
        /// that crossed it.
        count: usize,
        /// The limit.
        limit: usize,
    },
    /// The declared uncompressed sizes add up to more than
    /// [`Limits::max_total_size`](crate::Limits::max_total_size); `index` is the entry
    /// that crossed the limit.
    #[error(
        "entry {index} ({name:?}) brings the declared total to more than the limit of {limit} bytes"
    )]
    TotalTooLarge {
        /// Index of the entry that crossed the limit.
        index: usize,
        /// Its name.
        name: String,
        /// The limit in bytes.
        limit: u64,
    },

    // ----- the archive's structure -----
    /// The end record's comment does not end exactly at the end of the file: bytes
    /// follow it, or the file stops inside it. CPython reads such an archive, Info-ZIP
    /// warns, and a reader that insists on the end looks for another record.
    #[error(
        "the end record at offset {end_record} declares a {comment_len}-byte comment that does not end at the end of the file ({file_len} bytes)"
    )]
    CommentNotAtEnd {
        /// Offset of the end of central directory record.
        end_record: u64,
        /// Comment length it declares.
        comment_len: u16,
        /// Length of the file.
        file_len: u64,
    },
    /// The archive comment holds a record signature: a second end record (which
    /// CPython and backwards scanners take instead of the real one) or the pieces of
    /// a second archive hidden in the comment.
    #[error(
        "the comment of the end record at offset {end_record} holds a {signature} signature at offset {offset}"
    )]
    SignatureInComment {
        /// Offset of the end of central directory record.
        end_record: u64,
        /// Offset of the signature.
        offset: u64,
        /// Which record's signature it is.
        signature: &'static str,
    },
    /// The end record, the zip64 end record and its locator disagree, or describe a
    /// multi-disk archive: CPython reads the zip64 record 76 bytes before the end
    /// record whatever the locator says, the zip crate follows the locator, and they
    /// take 32-bit or 64-bit values under different conditions.
    #[error("the {record} is inconsistent: {field}")]
    EndRecordMismatch {
        /// `"end record"`, `"zip64 end record"` or `"zip64 end record locator"`.
        record: &'static str,
        /// What disagrees.
        field: &'static str,
    },
    /// The central directory holds a different number of records than an end record
    /// declares: CPython walks the directory by its size and extracts them all, the
    /// zip crate reads only the declared count.
    #[error("the {record} declares {declared} entries but the central directory holds {found}")]
    EntryCountMismatch {
        /// `"end record"` or `"zip64 end record"`.
        record: &'static str,
        /// The declared count.
        declared: u64,
        /// Central records that fill the central directory's declared size.
        found: u64,
    },
    /// The central directory's declared offset and size run past the end records.
    #[error(
        "the central directory declared at offset {start} with {size} bytes does not end where the end records start (offset {end_records})"
    )]
    CentralDirectoryExtent {
        /// Declared offset of the central directory.
        start: u64,
        /// Declared size.
        size: u64,
        /// Offset of the (zip64) end record.
        end_records: u64,
    },
    /// Bytes inside the central directory's declared extent are not a whole central
    /// record: junk a size-walking reader (CPython) trips over and a count-walking one
    /// (the zip crate) never reads, or a record that runs past the declared size.
    #[error("offset {offset} inside the central directory is not a whole central record")]
    CentralDirectoryJunk {
        /// Where the unreadable record starts.
        offset: u64,
    },
    /// Bytes before the archive proper (a self-extracting stub or prepended data).
    /// CPython and the zip crate shift every offset by them, a streaming reader
    /// starts at offset 0 and reads whatever the stub holds: refused, since readers
    /// disagree on where the entries are.
    #[error("{len} bytes precede the archive (a self-extracting stub or prepended data)")]
    Prefix {
        /// Number of bytes before the first entry or the central directory.
        len: u64,
    },
    /// A local entry the central directory does not list: a streaming reader would
    /// extract it, a central-directory reader would not.
    #[error("a local entry {name:?} at offset {offset} is not listed in the central directory")]
    UnlistedEntry {
        /// Offset of its local header.
        offset: u64,
        /// Its name, as in the local header (decoded lossily).
        name: String,
    },
    /// Bytes between entries (or between the last entry and the central directory)
    /// that belong to no entry: room to hide data some reader finds.
    #[error("{len} bytes at offset {offset} belong to no entry")]
    UnlistedBytes {
        /// Offset of the first such byte.
        offset: u64,
        /// How many.
        len: u64,
    },

    // ----- names -----
    /// The name is not valid UTF-8 although its UTF-8 flag is set.
    #[error("entry {index} has a name that is not valid UTF-8: {name:?}")]
    NameNotUtf8 {
        /// Index of the entry.
        index: usize,
        /// The name, decoded lossily.
        name: String,
    },
    /// The name has bytes outside ASCII but no UTF-8 flag (general purpose bit 11):
    /// CPython decodes them as CP437, Info-ZIP and libarchive write them as they are
    /// (or through the locale), so each writes another name.
    #[error("entry {index} has non-ASCII bytes in its name but no UTF-8 flag: {name:?}")]
    AmbiguousEncoding {
        /// Index of the entry.
        index: usize,
        /// The name, decoded lossily as UTF-8.
        name: String,
    },
    /// An Info-ZIP Unicode Path extra field (0x7075) gives another name than the raw
    /// one. Info-ZIP takes it from the central header, libarchive from the local one,
    /// the zip crate from either, each under its own conditions (version byte, CRC of
    /// the raw name); CPython up to 3.11 ignores it. The raw name is the one checked
    /// and written, so a second name is refused whatever its version and CRC.
    #[error("entry {index} ({name:?}) has a second name in its {header} header: {second:?}")]
    SecondName {
        /// Index of the entry.
        index: usize,
        /// The raw name.
        name: String,
        /// `"local"` or `"central"`.
        header: &'static str,
        /// The name in the field, decoded lossily as UTF-8.
        second: String,
    },
    /// The name is empty, or only `.` components (nothing to create).
    #[error("entry {index} has an empty name: {name:?}")]
    EmptyName {
        /// Index of the entry.
        index: usize,
        /// The name.
        name: String,
    },
    /// The name contains NUL or another control character.
    #[error("entry {index} has a control character in its name: {name:?}")]
    ControlCharacter {
        /// Index of the entry.
        index: usize,
        /// The name.
        name: String,
    },
    /// The name starts with `/`.
    #[error("entry {index} has an absolute path: {name:?}")]
    AbsolutePath {
        /// Index of the entry.
        index: usize,
        /// The name.
        name: String,
    },
    /// The name starts with a drive letter (`C:`) or a UNC prefix (`\\server`, `//server`).
    #[error("entry {index} has a drive or UNC prefix: {name:?}")]
    PathPrefix {
        /// Index of the entry.
        index: usize,
        /// The name.
        name: String,
    },
    /// The name contains a backslash (a Windows separator, or a way to smuggle `..\`).
    #[error("entry {index} has a backslash in its name: {name:?}")]
    Backslash {
        /// Index of the entry.
        index: usize,
        /// The name.
        name: String,
    },
    /// The name's `..` components climb above the destination (zip slip).
    #[error("entry {index} escapes the destination with `..`: {name:?}")]
    ParentEscape {
        /// Index of the entry.
        index: usize,
        /// The name.
        name: String,
    },
    /// The name has a `..` component that stays inside the destination, or ends
    /// with a `.` component. CPython's `extractall` drops such components (`a/b/../c`
    /// becomes `a/b/c`, `a/.` a file `a`), pip and the zip crate resolve them (`a/c`,
    /// a directory `a`): readers write different paths.
    #[error("entry {index} has a `..` component or a final `.`: {name:?}")]
    DotComponent {
        /// Index of the entry.
        index: usize,
        /// The name.
        name: String,
    },
    /// The name is longer than [`Limits::max_name_len`](crate::Limits::max_name_len) bytes.
    #[error("entry {index} has a name of {len} bytes, more than the limit of {limit}")]
    NameTooLong {
        /// Index of the entry.
        index: usize,
        /// The name, truncated to the limit.
        name: String,
        /// Length of the name in bytes.
        len: usize,
        /// The limit.
        limit: usize,
    },
    /// A component of the path is longer than 255 bytes (`NAME_MAX`): no file system
    /// can hold it, so it would fail late, half-way through writing.
    #[error("entry {index} ({name:?}) has a path component of {len} bytes, more than 255")]
    ComponentTooLong {
        /// Index of the entry.
        index: usize,
        /// The name.
        name: String,
        /// Length of the longest component in bytes.
        len: usize,
    },
    /// The path under the destination is longer than the platform accepts
    /// (`PATH_MAX`: 4,096 bytes with the terminating NUL on Linux, 1,024 on macOS).
    #[error(
        "entry {index} ({name:?}) would be written at a path of {len} bytes, more than the platform's {limit}"
    )]
    PathTooLong {
        /// Index of the entry.
        index: usize,
        /// The name.
        name: String,
        /// Length of the full path it would be written at, destination included.
        len: usize,
        /// The longest path the platform accepts, without the NUL.
        limit: usize,
    },
    /// Windows only: a component is a device name (`CON`, `PRN`, `AUX`, `NUL`,
    /// `COM0`-`COM9`, `LPT0`-`LPT9`, `CONIN$`, `CONOUT$`, in any case, with or without an
    /// extension). Opening it would open the device: the file would silently vanish.
    #[error("entry {index} ({name:?}) has the component {component:?}, a Windows device name")]
    ReservedName {
        /// Index of the entry.
        index: usize,
        /// The name.
        name: String,
        /// The component that is a device name.
        component: String,
    },
    /// Windows only: a component ends with a dot or a space, which Windows strips
    /// (`a.` and `a` would be one file).
    #[error(
        "entry {index} ({name:?}) has the component {component:?}, which ends with a dot or a space"
    )]
    TrailingDotOrSpace {
        /// Index of the entry.
        index: usize,
        /// The name.
        name: String,
        /// The component.
        component: String,
    },
    /// Windows only: the name holds a character Windows does not allow in file names
    /// (`< > : " | ? *`; `:` would open an NTFS alternate data stream).
    #[error("entry {index} ({name:?}) holds {character:?}, which Windows does not allow in names")]
    ForbiddenCharacter {
        /// Index of the entry.
        index: usize,
        /// The name.
        name: String,
        /// The character.
        character: char,
    },
    /// Windows and macOS: two paths of the archive differ only in case (`Readme` and
    /// `README`, or directories `Pkg/` and `pkg/`), so the file system, which ignores
    /// case, would make them one: the later entry would overwrite or merge into the
    /// earlier.
    #[error("entry {index} ({name:?}) is the same path as {other:?} when case is ignored")]
    CaseCollision {
        /// Index of the entry where the collision showed.
        index: usize,
        /// Its name.
        name: String,
        /// The earlier path it collides with (normalized).
        other: String,
    },
    /// macOS: two paths of the archive differ only in Unicode normalization (`é` as one
    /// code point and as `e` plus an accent), which APFS and HFS+ treat as one name.
    #[error("entry {index} ({name:?}) is the same path as {other:?} under Unicode normalization")]
    NormalizationCollision {
        /// Index of the entry where the collision showed.
        index: usize,
        /// Its name.
        name: String,
        /// The earlier path it collides with (normalized).
        other: String,
    },
    /// The path has more components than [`Limits::max_depth`](crate::Limits::max_depth).
    #[error("entry {index} ({name:?}) is {depth} levels deep, more than the limit of {limit}")]
    TooDeep {
        /// Index of the entry.
        index: usize,
        /// The name.
        name: String,
        /// Components of the normalized path.
        depth: usize,
        /// The limit.
        limit: usize,
    },
    /// Two entries have the same path (after removing `.` and resolving `..`).
    #[error("entry {index} ({name:?}) has the same path as entry {first}")]
    DuplicateName {
        /// Index of the later entry.
        index: usize,
        /// Its name.
        name: String,
        /// Index of the earlier entry with that path.
        first: usize,
    },
    /// A path is used both as a file and as a directory (`a` and `a/b`, or `a` and `a/`).
    #[error(
        "entry {index} ({name:?}) conflicts with {other:?}: one path cannot be both a file and a directory"
    )]
    FileDirectoryConflict {
        /// Index of the entry where the conflict showed.
        index: usize,
        /// Its name.
        name: String,
        /// The normalized path used both ways.
        other: String,
    },

    // ----- entry kinds and encodings -----
    /// The entry is a symbolic link (Unix mode `S_IFLNK`); links are never created.
    #[error("entry {index} ({name:?}) is a symbolic link")]
    Symlink {
        /// Index of the entry.
        index: usize,
        /// The name.
        name: String,
    },
    /// The entry is a device, FIFO or socket (by its Unix mode).
    #[error("entry {index} ({name:?}) is a special file (mode {mode:#o})")]
    SpecialFile {
        /// Index of the entry.
        index: usize,
        /// The name.
        name: String,
        /// The Unix mode from the central directory.
        mode: u32,
    },
    /// A directory entry (its name ends with `/`) declares content: a size, a CRC or
    /// compressed bytes other than one empty stream. Every reader drops those bytes,
    /// so they are a place to hide data.
    #[error("directory entry {index} ({name:?}) carries data")]
    DirectoryWithData {
        /// Index of the entry.
        index: usize,
        /// The name.
        name: String,
    },
    /// The Unix mode or the DOS attributes say directory but the name does not end
    /// with `/`: CPython and Info-ZIP write a file, readers that trust the mode
    /// (libarchive) create a directory.
    #[error("entry {index} ({name:?}) is a directory by its attributes but not by its name")]
    DirectoryWithoutSlash {
        /// Index of the entry.
        index: usize,
        /// The name.
        name: String,
    },
    /// Some mainstream reader would create something else than the regular file or
    /// directory the entry is to CPython and to inflight: a symbolic link from a Unix
    /// mode under a host byte other than Unix (Info-ZIP reads the mode under several),
    /// a special file, a volume label (Info-ZIP skips it), or a type given by an extra
    /// field (libarchive's `xl`, ASi's Unix field).
    #[error("entry {index} ({name:?}) would be a {kind} for another reader: {why}")]
    AmbiguousType {
        /// Index of the entry.
        index: usize,
        /// The name.
        name: String,
        /// What it would be: `"symbolic link"`, `"special file"`, `"volume label"`.
        kind: &'static str,
        /// Which field says so, and which reader acts on it.
        why: String,
    },
    /// An extra field some reader acts on (a size, an offset, a host, a mode, a name)
    /// says something else than the raw fields it would override, appears twice in
    /// one header, or the extra area does not parse: readers that honour the field
    /// and readers that do not would read two entries. The crate docs list the fields.
    #[error("entry {index} ({name:?}): the {field} in the {header} header {problem}")]
    ExtraFieldMismatch {
        /// Index of the entry.
        index: usize,
        /// The name.
        name: String,
        /// `"local"` or `"central"`.
        header: &'static str,
        /// Which field, with its id.
        field: &'static str,
        /// What is wrong with it.
        problem: &'static str,
    },
    /// The entry is encrypted (ZipCrypto or AES).
    #[error("entry {index} ({name:?}) is encrypted")]
    Encrypted {
        /// Index of the entry.
        index: usize,
        /// The name.
        name: String,
    },
    /// The entry's compression method is neither stored (0) nor deflate (8), nor
    /// Zstandard (93) with the `zstd` feature.
    #[error("entry {index} ({name:?}) uses unsupported compression method {method}")]
    UnsupportedMethod {
        /// Index of the entry.
        index: usize,
        /// The name.
        name: String,
        /// The method number from the central directory.
        method: u16,
    },
    /// A stored (uncompressed) entry declares different compressed and uncompressed sizes.
    #[error(
        "stored entry {index} ({name:?}) declares {compressed} bytes stored but {uncompressed} bytes of content"
    )]
    StoredSizeMismatch {
        /// Index of the entry.
        index: usize,
        /// The name.
        name: String,
        /// Declared compressed size.
        compressed: u64,
        /// Declared uncompressed size.
        uncompressed: u64,
    },

    // ----- layout -----
    /// The local header disagrees with the central directory, or is missing.
    #[error(
        "entry {index} ({name:?}): local header disagrees with the central directory on the {field}"
    )]
    LocalHeaderMismatch {
        /// Index of the entry.
        index: usize,
        /// The name from the central directory.
        name: String,
        /// What differs: `"signature"`, `"name"`, `"method"`, `"flags"`, `"crc"`,
        /// `"compressed size"` or `"uncompressed size"`.
        field: &'static str,
    },
    /// The data descriptor after an entry's data (general purpose flag bit 3)
    /// disagrees with the central directory. Streaming readers take the descriptor's
    /// values, central-directory readers the central ones. Also, for an archive read
    /// as a stream ([`Unzipper::unzip_reader`](crate::Unzipper::unzip_reader)), a
    /// descriptor whose compressed size is not where the entry's deflate stream ended
    /// (found before the central directory arrives; data that breaks its descriptor's
    /// size or CRC-32 is [`ExceedsDeclaredSize`](Self::ExceedsDeclaredSize),
    /// [`SizeMismatch`](Self::SizeMismatch) or [`CrcMismatch`](Self::CrcMismatch), as
    /// on the seekable path when the descriptor agrees with the central directory).
    #[error(
        "entry {index} ({name:?}): data descriptor disagrees with the central directory or the data on the {field}"
    )]
    DataDescriptorMismatch {
        /// Index of the entry.
        index: usize,
        /// The name.
        name: String,
        /// What differs: `"crc"`, `"compressed size"` or `"uncompressed size"`.
        field: &'static str,
    },
    /// An entry has a data descriptor (flag bit 3) but data that does not mark its own
    /// end: a method whose data is just bytes (stored, zstd), or a deflated entry with
    /// no compressed bytes at all (no stream to end). Only the central directory says
    /// where the descriptor is. A streaming reader walking local headers cannot find
    /// it (Java's `ZipInputStream` refuses such entries, uv's streaming path too), so
    /// readers disagree on where the next entry starts; refused on every path.
    #[error(
        "entry {index} ({name:?}) has a data descriptor but its data (method {method}) does not mark where it ends: a streaming reader cannot find the descriptor"
    )]
    EntryEndUnknown {
        /// Index of the entry.
        index: usize,
        /// The name.
        name: String,
        /// The compression method's number.
        method: u16,
    },
    /// Two entries' byte ranges (local header through data descriptor) overlap: two
    /// central entries share data, or one entry's data quotes another (a zip bomb or a
    /// parser-confusion trick).
    #[error("entry {index} ({name:?}) overlaps entry {other}")]
    OverlappingEntries {
        /// Index of one entry.
        index: usize,
        /// Its name.
        name: String,
        /// Index of the entry it overlaps.
        other: usize,
    },
    /// The entry's local header, data or data descriptor lies past the start of the
    /// central directory (a truncated or forged archive).
    #[error(
        "entry {index} ({name:?}) extends past the entry data area: archive truncated or forged"
    )]
    EntryOutOfBounds {
        /// Index of the entry.
        index: usize,
        /// The name.
        name: String,
    },

    // ----- limits on declared sizes -----
    /// The declared uncompressed size exceeds [`Limits::max_entry_size`](crate::Limits::max_entry_size).
    #[error("entry {index} ({name:?}) declares {size} bytes, more than the limit of {limit}")]
    EntryTooLarge {
        /// Index of the entry.
        index: usize,
        /// The name.
        name: String,
        /// Declared uncompressed size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// Declared uncompressed size divided by compressed size exceeds
    /// [`Limits::max_compression_ratio`](crate::Limits::max_compression_ratio).
    #[error(
        "entry {index} ({name:?}) declares {size} bytes from {compressed} compressed bytes, a ratio above {limit}"
    )]
    CompressionRatio {
        /// Index of the entry.
        index: usize,
        /// The name.
        name: String,
        /// Declared uncompressed size.
        size: u64,
        /// Declared compressed size.
        compressed: u64,
        /// The limit.
        limit: u64,
    },

    // ----- content, found while writing -----
    /// The entry inflates to more bytes than it declares; output stopped at the declared size.
    #[error("entry {index} ({name:?}) inflates past its declared size of {declared} bytes")]
    ExceedsDeclaredSize {
        /// Index of the entry.
        index: usize,
        /// The name.
        name: String,
        /// Declared uncompressed size.
        declared: u64,
    },
    /// The entry's data ended before its declared uncompressed size.
    #[error("entry {index} ({name:?}) has {actual} bytes, not the declared {declared}")]
    SizeMismatch {
        /// Index of the entry.
        index: usize,
        /// The name.
        name: String,
        /// Declared uncompressed size.
        declared: u64,
        /// Bytes actually produced.
        actual: u64,
    },
    /// The CRC-32 of the written bytes differs from the declared one.
    #[error(
        "entry {index} ({name:?}) has CRC-32 {actual:#010x}, not the declared {expected:#010x}"
    )]
    CrcMismatch {
        /// Index of the entry.
        index: usize,
        /// The name.
        name: String,
        /// Declared CRC-32.
        expected: u32,
        /// CRC-32 of the bytes produced.
        actual: u32,
    },
    /// Bytes follow the end of the entry's compressed stream inside its compressed
    /// size. Readers disagree about such bytes: most skip them, but a streaming
    /// reader of an entry with a data descriptor reads them as the records that come
    /// next, where an archive could hide an entry.
    #[error("entry {index} ({name:?}) has {len} bytes after the end of its compressed stream")]
    TrailingData {
        /// Index of the entry.
        index: usize,
        /// The name.
        name: String,
        /// Bytes after the end of the stream.
        len: u64,
    },
    /// The compressed data is not a valid deflate stream (or ends early).
    #[error("entry {index} ({name:?}) has corrupt compressed data")]
    CorruptData {
        /// Index of the entry.
        index: usize,
        /// The name.
        name: String,
        /// What the decompressor said.
        #[source]
        source: std::io::Error,
    },

    // ----- streaming -----
    /// Reading the archive's stream failed at this byte (the download broke, the
    /// stream's opener failed at byte 0). Nothing was published.
    #[error("reading the archive's stream failed at byte {offset}")]
    StreamRead {
        /// How many bytes had arrived.
        offset: u64,
        /// What the stream said.
        #[source]
        source: std::io::Error,
    },
    /// The archive's stream ended at this byte, before the archive did (a download
    /// cut short). Nothing was published.
    #[error("the archive's stream ended at byte {offset}, before the end of the archive")]
    StreamEnded {
        /// How many bytes had arrived.
        offset: u64,
    },
    /// At this byte of the stream, where the next local header or the central
    /// directory must start, is something else: bytes before the first entry, or
    /// between entries, that a streaming reader cannot walk past (the seekable path
    /// refuses the same archives as [`UnzipError::Prefix`] or
    /// [`UnzipError::UnlistedBytes`]).
    #[error("byte {offset} of the stream starts no record (found {found:#010x})")]
    StreamJunk {
        /// Where.
        offset: u64,
        /// The four bytes found, little endian.
        found: u32,
    },
    /// The archive's records (everything but its files' data: local headers, data
    /// descriptors, the central directory, end records and comment) take more than
    /// this many bytes together. A streaming extraction keeps them all to check them
    /// against each other at the end, so it stops there; the seekable path refuses
    /// such an archive too, so that both give one verdict. Nothing was published.
    #[error(
        "the archive's records take more than {limit} bytes, the most a streaming extraction keeps"
    )]
    RecordsTooLarge {
        /// The bound, in bytes.
        limit: u64,
    },
    /// What was streamed and what the central directory says differ in a way the
    /// plan's rules did not name (a safety net: every difference the rules know has
    /// its own variant).
    #[error("the stream's entry at byte {offset} differs from the central directory: {what}")]
    StreamMismatch {
        /// Where the entry's local header is.
        offset: u64,
        /// What differs.
        what: &'static str,
    },
    /// The archive's SHA-256 is not the one expected
    /// ([`StreamOptions::expect_sha256`](crate::StreamOptions::expect_sha256)): the
    /// installer's hash check failed, and nothing was published.
    #[error("the archive's SHA-256 is {actual}, not the expected {expected}")]
    HashMismatch {
        /// The expected digest, in hex.
        expected: String,
        /// The digest of the bytes that arrived, in hex.
        actual: String,
    },
    /// The check given to [`StreamOptions::verify`](crate::StreamOptions::verify)
    /// refused the archive: nothing was published.
    #[error("the archive was refused before publishing")]
    Vetoed {
        /// Why, as the check said.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// [`Archive::read`](crate::Archive::read) was asked for a name the archive does
    /// not hold as a file.
    #[error("the archive holds no file named {name:?}")]
    NoSuchMember {
        /// The name asked for.
        name: String,
    },

    // ----- destination -----
    /// `dest` has no parent directory or no final component (`/`, `..`).
    #[error("destination {dest} must name a new directory inside an existing one")]
    InvalidDestination {
        /// The destination given.
        dest: std::path::PathBuf,
    },
    /// `dest` already exists: it was there before the call, or another process published
    /// it first. Nothing was replaced or merged; a cache may treat this as success.
    #[error("destination {dest} already exists")]
    DestinationExists {
        /// The destination given.
        dest: std::path::PathBuf,
    },
    /// Creating or writing something under the staging directory failed, or (from
    /// [`Archive::read_to`](crate::Archive::read_to)) the caller's writer failed: then
    /// `path` is the member being read.
    #[error("cannot write {path}")]
    Write {
        /// The file or directory being written.
        path: std::path::PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
    /// The file system layer refused or failed to stage, check or publish: a link
    /// or another directory in place of the staging directory (never followed,
    /// nothing published), or a destination that is a link.
    #[error(transparent)]
    Fs(#[from] FsError),
    /// Renaming the staging directory to `dest` failed.
    #[error("cannot rename {staging} to {dest}")]
    Publish {
        /// The staging directory.
        staging: std::path::PathBuf,
        /// The destination.
        dest: std::path::PathBuf,
        /// What the operating system said.
        #[source]
        source: std::io::Error,
    },
}

impl UnzipError {
    /// The unzipper's reading of a file system layer error: I/O on a path is a
    /// [`UnzipError::Write`] of that path, the rest is [`UnzipError::Fs`].
    pub(crate) fn from_fs(error: FsError) -> UnzipError {
        match error {
            FsError::Io { path, source, .. } => UnzipError::Write {
                path,
                source: unshare(source),
            },
            other => UnzipError::Fs(other),
        }
    }

    /// [`UnzipError::Write`] of `path`, for `map_err`.
    pub(crate) fn write(path: &Path) -> impl Fn(io::Error) -> UnzipError + Copy + '_ {
        move |source| UnzipError::Write {
            path: path.to_owned(),
            source,
        }
    }

    /// [`UnzipError::ReadArchive`] of `archive`, for `map_err`.
    pub(crate) fn read(archive: &Path) -> impl Fn(io::Error) -> UnzipError + Copy + '_ {
        move |source| UnzipError::ReadArchive {
            archive: archive.to_owned(),
            source,
        }
    }

    /// [`UnzipError::OpenArchive`] of `archive`, for `map_err`.
    pub(crate) fn open(archive: &Path) -> impl Fn(io::Error) -> UnzipError + Copy + '_ {
        move |source| UnzipError::OpenArchive {
            archive: archive.to_owned(),
            source,
        }
    }
}
