//! [`Unzipper::unzip_reader`]: extraction from any `Read`, while the archive arrives,
//! with a veto before publishing and an optional copy of the archive's bytes.
//! The pass itself is `stream/`.

use std::fmt;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::fs_names::FsRules;
use super::stream::{self, Block, Settings};
use super::{Destination, Extracted, Label, UnzipError, Unzipper, parent_dir, staging_stem};
use crate::fs::{Dir, Found, FsError, Staging};
use crate::sync::stream::{self as sync, JoinHandle, Sender, unbounded};

/// A check an installer runs on a streamed archive before anything is published.
type Verify = Arc<
    dyn Fn(&StreamedArchive) -> Result<(), Box<dyn std::error::Error + Send + Sync>> + Send + Sync,
>;

/// What a streaming extraction can do besides extracting: check the archive's
/// SHA-256 (or anything else about it) before publishing, and keep its bytes.
///
/// # Examples
///
/// ```no_run
/// use inflight::{StreamOptions, Unzipper};
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let download = std::io::empty();
/// // The hash from a lock file; the wheel itself kept beside the extracted tree.
/// let options = StreamOptions::new()
///     .expect_sha256("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")
///     .keep_archive("cache/wheels/pkg-1.0-py3-none-any.whl");
/// Unzipper::new().unzip_reader_with(download, "site-packages/pkg-1.0", &options)?;
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Default)]
pub struct StreamOptions {
    expect_sha256: Option<String>,
    verify: Option<Verify>,
    keep_archive: Option<PathBuf>,
    name: Option<PathBuf>,
}

/// What a streaming extraction knows of the archive once it has arrived, for the
/// check of [`StreamOptions::verify`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StreamedArchive {
    /// The SHA-256 of every byte of the stream.
    pub sha256: [u8; 32],
    /// How many bytes the stream had.
    pub len: u64,
    /// Regular files in the archive.
    pub files: usize,
}

impl StreamedArchive {
    /// The SHA-256 in lowercase hex, as lock files write it.
    pub fn sha256_hex(&self) -> String {
        hex(&self.sha256)
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl StreamOptions {
    /// No check, no copy. Never blocks.
    pub fn new() -> Self {
        Self::default()
    }

    /// Refuse the archive unless the SHA-256 of its bytes is `hex` (64 hex digits, in
    /// any case), with [`UnzipError::HashMismatch`]: nothing is published. Never
    /// blocks.
    #[must_use]
    pub fn expect_sha256(mut self, hex: impl Into<String>) -> Self {
        self.expect_sha256 = Some(hex.into().to_ascii_lowercase());
        self
    }

    /// Runs `check` once the whole archive has arrived and passed every rule, before
    /// anything is published; an error refuses it ([`UnzipError::Vetoed`]). It runs on
    /// the calling thread. Never blocks.
    #[must_use]
    pub fn verify(
        mut self,
        check: impl Fn(&StreamedArchive) -> Result<(), Box<dyn std::error::Error + Send + Sync>>
        + Send
        + Sync
        + 'static,
    ) -> Self {
        self.verify = Some(Arc::new(check));
        self
    }

    /// Also writes the archive's bytes, as they arrive, to a new file at `path`
    /// (through a staging file beside it, published by a rename that never replaces
    /// anything): an installer caches the wheel it downloads without downloading it
    /// twice. The copy is published once the archive has passed every check, just
    /// before the extracted tree; if the stream fails or the archive is refused, there
    /// is no copy. (Should the tree's own rename then fail, the copy, complete and
    /// checked, stays.) If writing the copy fails (a full disk), the stream is read no
    /// further than its next block, and the copy's error is the verdict:
    /// [`UnzipError::Write`] naming `path`, unless an entry before that block was
    /// refused first. Never blocks.
    ///
    /// `path` must not exist, or be a regular file holding exactly the archive's
    /// bytes: the copy a request published before it was stopped (its process killed
    /// between the copy's rename and the tree's), or another request's copy of the
    /// same archive published while this one streamed; it stays as it is, so a retry,
    /// or a second installer keeping the same wheel, succeeds. Anything else there is [`UnzipError::DestinationExists`]: a link or a
    /// directory before the stream is read, other bytes once it has been. `path`
    /// may not be where the tree goes (the extraction's `dest`, or the cache's entry
    /// for the id): [`UnzipError::InvalidDestination`] before the stream is read. A process
    /// killed while it streams leaves the copy's staging file and its lock beside
    /// `path` (`.<name>.staging-<n>` and `.<name>.staging-<n>.lock`); the next copy
    /// to `path` removes them.
    #[must_use]
    pub fn keep_archive(mut self, path: impl AsRef<Path>) -> Self {
        self.keep_archive = Some(path.as_ref().to_owned());
        self
    }

    /// The name the archive goes by in errors and progress reports (a URL or a file
    /// name); `<stream>` by default. Never blocks.
    #[must_use]
    pub fn name(mut self, name: impl AsRef<Path>) -> Self {
        self.name = Some(name.as_ref().to_owned());
        self
    }
}

impl StreamOptions {
    /// The name the archive goes by, or `fallback`.
    pub(crate) fn name_or(&self, fallback: &str) -> PathBuf {
        self.name.clone().unwrap_or_else(|| PathBuf::from(fallback))
    }
}

impl fmt::Debug for StreamOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StreamOptions")
            .field("expect_sha256", &self.expect_sha256)
            .field(
                "verify",
                &self.verify.as_ref().map(|_| "Fn(&StreamedArchive)"),
            )
            .field("keep_archive", &self.keep_archive)
            .field("name", &self.name)
            .finish()
    }
}

impl Unzipper {
    /// Extracts the archive `reader` delivers, as it arrives, into the new directory
    /// `dest`: [`unzip_reader_with`](Self::unzip_reader_with) without options.
    ///
    /// # Errors
    ///
    /// As [`unzip_reader_with`](Self::unzip_reader_with).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::Write;
    ///
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    /// zip.start_file("pkg/__init__.py", zip::write::SimpleFileOptions::default())?;
    /// zip.write_all(b"print('hello')\n")?;
    /// let bytes = zip.finish()?.into_inner();
    ///
    /// let dir = tempfile::tempdir()?;
    /// // Any `Read`: an HTTP body, a pipe. This one cannot seek.
    /// let download = std::io::Read::chain(&bytes[..10], &bytes[10..]);
    /// let done = inflight::Unzipper::new().unzip_reader(download, dir.path().join("out"))?;
    /// assert_eq!(std::fs::read(done.dest.join("pkg/__init__.py"))?, b"print('hello')\n");
    /// # Ok(())
    /// # }
    /// ```
    pub fn unzip_reader(
        &self,
        reader: impl Read,
        dest: impl AsRef<Path>,
    ) -> Result<Extracted, UnzipError> {
        self.unzip_reader_with(reader, dest, &StreamOptions::default())
    }

    /// Extracts the archive `reader` delivers, as it arrives, into the new directory
    /// `dest`, with the same rules and guarantees as [`unzip`](Self::unzip).
    ///
    /// Blocks until the stream has ended and the archive is extracted and checked, or
    /// refused. The calling thread reads the stream (and decodes the entries whose
    /// size only their data descriptor gives); files are written by threads of the
    /// extraction's own, at most one per core and 8, plus one for each entry of 4 MiB
    /// or more being written, at most twice as many (not the rayon pool: a writer may
    /// wait for the network), so the reading never waits for a file write (only for
    /// the writers to catch up, once 16 MiB of blocks or 4,096 files wait for them),
    /// and at most 16 MiB of the stream is in memory at once (plus the archive's records, kept for
    /// the final check: at most 256 MiB, and the plan's memory as in
    /// [`unzip`](Self::unzip)). Entries are
    /// written into a staging directory as they arrive; once the stream has ended, its
    /// central directory and end records are read, and every rule of the seekable path
    /// is checked against what was streamed. Only then, and after the checks of
    /// `options`, is the directory published; any failure, or a panic or error of
    /// `reader`, removes it.
    ///
    /// # Errors
    ///
    /// Every error of [`unzip`](Self::unzip); [`UnzipError::StreamRead`] and
    /// [`UnzipError::StreamEnded`] with the byte where the stream failed or ended;
    /// [`UnzipError::StreamJunk`] for bytes no streaming reader can walk past;
    /// [`UnzipError::RecordsTooLarge`]; [`UnzipError::HashMismatch`] and
    /// [`UnzipError::Vetoed`] from `options`.
    ///
    /// # Panics
    ///
    /// If the progress callback or `reader` panics, after cleaning up.
    pub fn unzip_reader_with(
        &self,
        reader: impl Read,
        dest: impl AsRef<Path>,
        options: &StreamOptions,
    ) -> Result<Extracted, UnzipError> {
        let dest = dest.as_ref();
        let target = Destination::new(dest)?;
        let parent = target.open_parent()?;
        let staging = target.stage(&parent)?;
        let root = staging.dir_handle().expect("a slot stages a directory");
        let label = Label {
            archive: stream::stream_label(options.name.as_deref()),
            id: None,
        };
        let into = Staged {
            tree: dest,
            root,
            needs_chmod: staging.needs_chmod(),
            base_len: target.base_len,
        };
        let mut extracted = self.stream_into(reader, &into, &label, options)?;
        target.publish(staging, self.durable)?;
        extracted.dest = dest.to_owned();
        Ok(extracted)
    }

    /// A streaming extraction into `into.root` (a staging directory its caller made
    /// and will publish at `into.tree`): the pass, the checks of `options`, the modes,
    /// the flushes of durable mode, and the archive's copy published.
    pub(crate) fn stream_into(
        &self,
        reader: impl Read,
        into: &Staged<'_>,
        label: &Label,
        options: &StreamOptions,
    ) -> Result<Extracted, UnzipError> {
        let Staged {
            tree,
            root,
            needs_chmod,
            base_len,
        } = *into;
        // The archive's copy: a staging file beside its path, filled by a thread of its
        // own, published once every check has passed, just before the tree.
        let kept = match options.keep_archive.as_deref() {
            Some(path) => Some(kept_archive_dir(path, tree)?),
            None => None,
        };
        let mut copy_staging = match &kept {
            Some(kept) => {
                Some(Staging::file_in_slot(&kept.parent, &kept.stem).map_err(UnzipError::from_fs)?)
            }
            None => None,
        };
        let mut copy = match (&mut copy_staging, &kept) {
            (Some(staging), Some(KeptArchive { path, .. })) => {
                let file = staging
                    .file_handle()
                    .expect("a file staging")
                    .try_clone()
                    .map_err(UnzipError::write(path))?;
                Some(Copier::start(file, path)?)
            }
            _ => None,
        };
        let streamed = {
            let settings = Settings {
                limits: &self.limits,
                base_len,
                needs_chmod,
                durable: self.durable,
                progress: self.progress.clone(),
                label,
                copy: copy.as_ref().and_then(|copy| copy.sender.clone()),
                // SHA-256 runs at 1-2 GB/s: on the reading thread only when someone
                // looks at it (the copy hashes its own bytes on its own thread).
                hash: options.expect_sha256.is_some() || options.verify.is_some(),
                cores: None,
            };
            let streamed = stream::extract(reader, root, settings);
            copy_failed_first(streamed, &mut copy, kept.as_ref().map(|kept| &kept.path))?
        };
        let archive = StreamedArchive {
            sha256: streamed.sha256.unwrap_or_default(),
            len: streamed.len,
            files: streamed.plan.files.len(),
        };
        if let Some(expected) = &options.expect_sha256
            && *expected != archive.sha256_hex()
        {
            return Err(UnzipError::HashMismatch {
                expected: expected.clone(),
                actual: archive.sha256_hex(),
            });
        }
        if let Some(verify) = &options.verify {
            verify(&archive).map_err(|source| UnzipError::Vetoed { source })?;
        }
        stream::apply_modes(root, &streamed.plan)?;
        if self.durable {
            for dir in streamed.plan.dirs.paths().rev() {
                let path = root.path().join(&dir);
                root.open_dir_beneath(&dir)
                    .and_then(|d| d.sync())
                    .map_err(UnzipError::write(&path))?;
            }
            root.sync().map_err(UnzipError::write(root.path()))?;
        }
        if let (Some(copy), Some(staging), Some(kept)) = (copy, copy_staging, &kept) {
            let path = &kept.path;
            let copied = copy.finish().map_err(UnzipError::write(path))?;
            if self.durable {
                staging.sync_all().map_err(UnzipError::from_fs)?;
            }
            match staging.publish(&kept.name, self.durable) {
                Ok(()) => {}
                // This archive's own bytes there already (a copy published by a request
                // that was stopped before its tree was, or by another request for the
                // same archive meanwhile): they stand, and ours, the same bytes, are
                // removed with the staging file.
                Err(FsError::Exists { .. })
                    if same_copy(&kept.parent, &kept.name, streamed.len, &copied)
                        .unwrap_or(false) => {}
                Err(FsError::Exists { .. }) => {
                    return Err(UnzipError::DestinationExists { dest: path.clone() });
                }
                Err(other) => return Err(UnzipError::from_fs(other)),
            }
        }
        Ok(Extracted {
            dest: root.path().to_owned(),
            files: streamed.plan.files.len(),
            dirs: streamed.plan.dirs.len(),
            bytes: streamed.plan.total_bytes,
        })
    }
}

/// Where a streaming extraction writes: a staging directory its caller made.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Staged<'a> {
    /// Where the caller publishes it.
    pub(crate) tree: &'a Path,
    /// The staging directory.
    pub(crate) root: &'a Dir,
    /// Whether modes must be set explicitly (the umask would change them).
    pub(crate) needs_chmod: bool,
    /// The length of the longest directory path entries are written under.
    pub(crate) base_len: usize,
}

/// The verdict of a stream that stopped because the archive's copy failed: the
/// copy's own error (a full disk, say), written to `path`; any other result as it is.
fn copy_failed_first<T>(
    streamed: Result<T, UnzipError>,
    copy: &mut Option<Copier>,
    path: Option<&PathBuf>,
) -> Result<T, UnzipError> {
    match streamed {
        Err(error) if stream::CopyStopped::is(&error) => {
            let (Some(copier), Some(path)) = (copy.take(), path) else {
                return Err(error);
            };
            match copier.finish() {
                Err(source) => Err(UnzipError::write(path)(source)),
                // Cannot happen: the copier stops taking blocks only when it failed.
                Ok(_) => Err(error),
            }
        }
        other => other,
    }
}

/// The thread that writes the archive's bytes to the staging file of
/// [`StreamOptions::keep_archive`] as they arrive (the reading thread hands each block
/// over and goes on), and hashes them (SHA-256) as it writes them, off the reading
/// thread: a copy of the same archive found at the copy's path when it is published
/// stands only if it holds these bytes. Dropping it waits for the thread.
struct Copier {
    sender: Option<Sender<Arc<Block>>>,
    thread: Option<JoinHandle<std::io::Result<[u8; 32]>>>,
}

impl Copier {
    fn start(mut file: impl Write + Send + 'static, path: &Path) -> Result<Copier, UnzipError> {
        let (sender, blocks) = unbounded::<Arc<Block>>();
        let thread = sync::Builder::new()
            .name("inflight-archive-copy".into())
            .spawn(move || {
                use sha2::{Digest, Sha256};
                let mut hash = Sha256::new();
                for block in blocks {
                    file.write_all(block.bytes())?;
                    hash.update(block.bytes());
                }
                Ok(hash.finalize().into())
            })
            .map_err(UnzipError::write(path))?;
        Ok(Copier {
            sender: Some(sender),
            thread: Some(thread),
        })
    }

    /// Waits until every block is written; returns the SHA-256 of the bytes written.
    fn finish(mut self) -> std::io::Result<[u8; 32]> {
        self.sender = None;
        match self.thread.take().map(JoinHandle::join) {
            Some(Ok(result)) => result,
            Some(Err(payload)) => std::panic::resume_unwind(payload),
            // The thread is taken only here and by `Drop`.
            None => unreachable!("a copier finished twice"),
        }
    }
}

impl Drop for Copier {
    fn drop(&mut self) {
        self.sender = None;
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Where the archive's copy goes: its parent directory, the stem of its staging slot,
/// its name and its path. Nothing or a regular file may be there (a copy another
/// request published stands if its bytes are the archive's: see [`same_copy`]);
/// refuses a path that is anything else (a link, never followed; a directory), and
/// the path the tree is published at (`tree`: the copy, published first, would take
/// its place), before the stream is read.
fn kept_archive_dir(path: &Path, tree: &Path) -> Result<KeptArchive, UnzipError> {
    let invalid = || UnzipError::InvalidDestination {
        dest: path.to_owned(),
    };
    let name = path.file_name().ok_or_else(invalid)?;
    if same_place(path, tree) {
        return Err(invalid());
    }
    // A path with a name has a parent.
    let parent_path = parent_dir(path).ok_or_else(invalid)?;
    let parent = Dir::open(parent_path).map_err(UnzipError::write(parent_path))?;
    match parent.stat(name).map_err(UnzipError::write(path))? {
        Found::Missing | Found::File => {}
        _ => {
            return Err(UnzipError::DestinationExists {
                dest: path.to_owned(),
            });
        }
    }
    Ok(KeptArchive {
        stem: staging_stem(name),
        parent,
        name: name.to_owned(),
        path: path.to_owned(),
    })
}

/// Whether `a` and `b` name one place: the same name (as the host's file system
/// compares names) in the same directory, however each is spelled (`..`, links to
/// the directory). A parent that cannot be resolved is no match: the copy's own
/// checks then refuse it.
fn same_place(a: &Path, b: &Path) -> bool {
    let split = |path: &Path| {
        Some((
            std::fs::canonicalize(parent_dir(path)?).ok()?,
            path.file_name()?.to_owned(),
        ))
    };
    let (Some((a_dir, a_name)), Some((b_dir, b_name))) = (split(a), split(b)) else {
        return false;
    };
    let folded = |name: &std::ffi::OsStr| {
        name.to_str()
            .and_then(|name| FsRules::HOST.fold(name))
            .map(std::ffi::OsString::from)
            .unwrap_or_else(|| name.to_owned())
    };
    a_dir == b_dir && folded(&a_name) == folded(&b_name)
}

/// Where the archive's copy goes ([`kept_archive_dir`]).
struct KeptArchive {
    parent: Dir,
    stem: String,
    name: std::ffi::OsString,
    path: PathBuf,
}

/// Whether the regular file `name` in `parent` holds exactly the `len` bytes whose
/// SHA-256 is `sha256`: a copy of this very archive that another request published
/// (one stopped between the copy's rename and the tree's, or one streaming the same
/// archive meanwhile), which may stand instead of this one. A link is never followed;
/// a file of another length is not read.
fn same_copy(
    parent: &Dir,
    name: &std::ffi::OsStr,
    len: u64,
    sha256: &[u8; 32],
) -> std::io::Result<bool> {
    use sha2::{Digest, Sha256};
    let mut file = match parent.open_file(name) {
        Ok(file) => file,
        Err(_) => return Ok(false),
    };
    if file.metadata()?.len() != len {
        return Ok(false);
    }
    let mut hash = Sha256::new();
    std::io::copy(&mut file, &mut hash)?;
    Ok(<[u8; 32]>::from(hash.finalize()) == *sha256)
}

#[cfg(test)]
mod tests {
    use std::io::{self, Cursor, Read, Write};
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::time::Duration;

    use crossbeam_channel::{Receiver, Sender, bounded};

    use super::*;
    use crate::Limits;

    /// A copy's file on a disk that fills after `room` bytes; says it failed when the
    /// copier drops it, which is after the copier stopped taking blocks.
    struct Full {
        room: usize,
        failed: Option<Sender<()>>,
    }

    impl Write for Full {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if buf.len() > self.room {
                return Err(io::Error::new(io::ErrorKind::StorageFull, "disk full"));
            }
            self.room -= buf.len();
            Ok(buf.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl Drop for Full {
        fn drop(&mut self) {
            if let Some(failed) = self.failed.take() {
                let _ = failed.send(());
            }
        }
    }

    /// A download that stops after `pause_at` bytes until the copy has failed, and
    /// counts what it handed out.
    struct Paused {
        bytes: Cursor<Vec<u8>>,
        pause_at: u64,
        copy_failed: Receiver<()>,
        read: Arc<AtomicU64>,
    }

    impl Read for Paused {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.bytes.position() >= self.pause_at {
                // The first time, until the copier has gone; then at once.
                let _ = self.copy_failed.recv_timeout(Duration::from_secs(60));
            }
            let n = self.bytes.read(buf)?;
            self.read.fetch_add(n as u64, Ordering::Relaxed);
            Ok(n)
        }
    }

    /// 40 stored files of 64 KiB: 2.5 MiB, 40 blocks of the stream.
    fn archive() -> Vec<u8> {
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let stored = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        for i in 0..40u8 {
            zip.start_file(format!("f{i}.bin"), stored).unwrap();
            zip.write_all(&vec![i; 64 << 10]).unwrap();
        }
        zip.finish().unwrap().into_inner()
    }

    /// The copy of the archive fails (a full disk): the stream stops at the next block
    /// instead of being read to its end, and the copy's error is the verdict.
    #[test]
    fn a_copy_that_fails_stops_the_stream_and_its_error_is_the_verdict() {
        let bytes = archive();
        let dir = tempfile::tempdir().unwrap();
        let root = Dir::open(dir.path()).unwrap();
        let kept = PathBuf::from("kept.whl");
        let (failed, copy_failed) = bounded(1);
        let full = Full {
            room: 100 << 10,
            failed: Some(failed),
        };
        let mut copy = Some(Copier::start(full, &kept).unwrap());
        let read = Arc::new(AtomicU64::new(0));
        let stream = Paused {
            bytes: Cursor::new(bytes.clone()),
            pause_at: 256 << 10,
            copy_failed,
            read: Arc::clone(&read),
        };
        let label = Label {
            archive: Arc::from(Path::new("test.zip")),
            id: None,
        };
        let settings = Settings {
            limits: &Limits::default(),
            base_len: dir.path().as_os_str().len(),
            needs_chmod: false,
            durable: false,
            progress: None,
            label: &label,
            copy: copy.as_ref().and_then(|copy| copy.sender.clone()),
            hash: false,
            cores: None,
        };
        let streamed = stream::extract(stream, &root, settings);
        let error = copy_failed_first(streamed, &mut copy, Some(&kept)).unwrap_err();
        assert!(
            matches!(
                error,
                UnzipError::Write { ref path, ref source }
                    if *path == kept && source.kind() == io::ErrorKind::StorageFull
            ),
            "{error:?}"
        );
        let read = read.load(Ordering::Relaxed);
        assert!(
            read <= (256 << 10) + (64 << 10),
            "read {read} of {} bytes",
            bytes.len()
        );
    }
}
