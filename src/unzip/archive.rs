//! [`Archive`]: an archive checked by the whole plan, read one member at a time
//! without extracting anything.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use rustc_hash::FxHashMap;

use super::decode::{self, Source, Stop};
use super::limits::Limits;
use super::plan::{self, FileEntry};
use super::source::ReadAt;
use super::{UnzipError, open_archive};

/// An archive opened and checked by the same plan as [`Unzipper::unzip`]: every
/// refusal of the crate docs' table that the records decide applies, before a member
/// is read. Then [`Archive::read`] gives one member's bytes, with the checks of an
/// extraction (output capped at the declared size, size and CRC-32 compared), so a
/// resolver reads a wheel's `METADATA` with the rules its installer extracts the
/// wheel by.
///
/// What an extraction refuses and opening does not:
///
/// - **A member's content** (its compressed stream, size and CRC-32) is checked when
///   that member is read, not when the archive opens: reading `METADATA` does not
///   decode the rest, so a wheel with another member corrupt opens (and that member's
///   read fails), where extracting it fails.
/// - **[`UnzipError::PathTooLong`]** depends on the directory extracted into, and
///   nothing is extracted here: a path that fits under no real destination opens.
/// - **With the `libdeflate` feature**, an extraction inflates deflated entries of up
///   to [`Unzipper::in_memory_limit`] in memory with libdeflate, which accepts a few
///   reserved deflate symbols zlib refuses and no encoder writes; reads always
///   stream, so they refuse such a member (as [`Unzipper::unzip_reader`] does).
///
/// `Send + Sync`; reads never block on anything but the archive's file.
///
/// [`Unzipper::unzip`]: crate::Unzipper::unzip
/// [`Unzipper::in_memory_limit`]: crate::Unzipper::in_memory_limit
/// [`Unzipper::unzip_reader`]: crate::Unzipper::unzip_reader
///
/// # Examples
///
/// ```
/// use std::io::Write;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
/// let options = zip::write::SimpleFileOptions::default();
/// zip.start_file("pkg/__init__.py", options)?;
/// zip.write_all(b"print('hello')\n")?;
/// zip.start_file("pkg-1.0.dist-info/METADATA", options)?;
/// zip.write_all(b"Metadata-Version: 2.1\nName: pkg\nVersion: 1.0\n")?;
/// let wheel = zip.finish()?.into_inner();
///
/// let archive = inflight::Archive::from_bytes(wheel)?;
/// let metadata = archive.read("pkg-1.0.dist-info/METADATA")?;
/// assert!(metadata.starts_with(b"Metadata-Version: 2.1"));
/// assert_eq!(archive.files().count(), 2);
/// # Ok(())
/// # }
/// ```
pub struct Archive {
    source: Box<dyn ReadAt + Send>,
    label: PathBuf,
    /// Regular files in central-directory order.
    files: Vec<FileEntry>,
    /// Each file's position in `files`, by path.
    by_path: FxHashMap<String, usize>,
}

impl Archive {
    /// Opens the archive at `path` and checks it with [`Limits::default()`]. Blocks
    /// while the plan reads the archive's records.
    ///
    /// # Errors
    ///
    /// Every refusal of the plan (see the crate docs), and [`UnzipError::OpenArchive`],
    /// [`UnzipError::NotAFile`], [`UnzipError::ReadArchive`].
    pub fn open(path: impl AsRef<Path>) -> Result<Archive, UnzipError> {
        Self::open_with(path, Limits::default())
    }

    /// [`open`](Self::open) with `limits`.
    ///
    /// # Errors
    ///
    /// As [`open`](Self::open).
    pub fn open_with(path: impl AsRef<Path>, limits: Limits) -> Result<Archive, UnzipError> {
        let path = path.as_ref();
        let file = open_archive(path)?;
        Self::checked(Box::new(file), path.to_owned(), &limits)
    }

    /// The archive held in `bytes` (a download kept in memory), checked with
    /// [`Limits::default()`]. Never blocks.
    ///
    /// # Errors
    ///
    /// Every refusal of the plan (see the crate docs).
    pub fn from_bytes(bytes: impl Into<Vec<u8>>) -> Result<Archive, UnzipError> {
        Self::from_bytes_with(bytes, Limits::default())
    }

    /// [`from_bytes`](Self::from_bytes) with `limits`.
    ///
    /// # Errors
    ///
    /// As [`from_bytes`](Self::from_bytes).
    pub fn from_bytes_with(
        bytes: impl Into<Vec<u8>>,
        limits: Limits,
    ) -> Result<Archive, UnzipError> {
        let bytes = InMemory(bytes.into());
        Self::checked(Box::new(bytes), PathBuf::from("<bytes>"), &limits)
    }

    fn checked(
        source: Box<dyn ReadAt + Send>,
        label: PathBuf,
        limits: &Limits,
    ) -> Result<Archive, UnzipError> {
        // Nothing is written: no path has to fit under a directory.
        let plan = plan::plan(&*source, &label, limits, 0)?;
        let mut files = plan.files;
        files.sort_unstable_by_key(|entry| entry.index);
        let by_path = files
            .iter()
            .enumerate()
            .map(|(at, entry)| (entry.path.clone(), at))
            .collect();
        Ok(Archive {
            source,
            label,
            files,
            by_path,
        })
    }

    /// The paths of the regular files, in central-directory order (normalized: `/`
    /// between components, as they would be extracted). Never blocks.
    pub fn files(&self) -> impl Iterator<Item = &str> {
        self.files.iter().map(|entry| entry.path.as_str())
    }

    /// The bytes of the file at `path` (as [`files`](Self::files) lists it), decoded
    /// and checked against its declared size and CRC-32. Memory grows with the bytes
    /// decoded, up to the declared size, never beyond. Blocks while the member is
    /// read.
    ///
    /// # Errors
    ///
    /// [`UnzipError::NoSuchMember`]; the content errors of an extraction
    /// ([`UnzipError::CrcMismatch`], [`UnzipError::SizeMismatch`],
    /// [`UnzipError::ExceedsDeclaredSize`], [`UnzipError::CorruptData`],
    /// [`UnzipError::TrailingData`]); [`UnzipError::ReadArchive`].
    pub fn read(&self, path: &str) -> Result<Vec<u8>, UnzipError> {
        let mut out = Vec::new();
        self.read_to(path, &mut out)?;
        Ok(out)
    }

    /// [`read`](Self::read) into `out`, and the number of bytes written. Only checked
    /// bytes reach `out`, but on an error some may have (the CRC-32 is known at the
    /// end): discard what was written when it fails.
    ///
    /// # Errors
    ///
    /// As [`read`](Self::read), and [`UnzipError::Write`] when `out` fails.
    pub fn read_to(&self, path: &str, out: &mut dyn Write) -> Result<u64, UnzipError> {
        let Some(&at) = self.by_path.get(path) else {
            return Err(UnzipError::NoSuchMember {
                name: path.to_owned(),
            });
        };
        let entry = &self.files[at];
        let never = || false;
        let source = Source {
            file: &*self.source,
            archive: &self.label,
            cancelled: &never,
        };
        // In-memory decoding needs no second buffer here: every entry streams, with
        // this thread's buffers out of its slot, since `out` may read a member too. A
        // write error names the member being read.
        let member = Path::new(&entry.path);
        decode::write_to_caller(entry, &source, out, member).map_err(|stop| match stop {
            Stop::Failed(error) => error,
            Stop::Cancelled => unreachable!("nothing cancels a single read"),
        })?;
        Ok(entry.size)
    }
}

impl fmt::Debug for Archive {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Archive")
            .field("archive", &self.label)
            .field("files", &self.files.len())
            .finish_non_exhaustive()
    }
}

/// An archive's bytes in memory.
#[derive(Debug)]
struct InMemory(Vec<u8>);

impl ReadAt for InMemory {
    fn read_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<usize> {
        self.0.as_slice().read_at(buf, offset)
    }

    fn size(&self) -> std::io::Result<u64> {
        Ok(self.0.len() as u64)
    }
}
