//! Streaming extraction: an archive read once, front to back, from any `Read`, its
//! entries written while it arrives, and every rule of the seekable path checked
//! before anything is published.
//!
//! # The pass
//!
//! The calling thread (the *reader*) reads the stream into pool blocks
//! (`blocks.rs`: 16 MiB in flight at most) and walks it: each local header is read
//! and checked as far as a local header allows (`local.rs`), its directories are
//! made, and its data is handed to the writers (`writers.rs`) as slices of the
//! blocks. An entry whose sizes the local header gives is handed over as compressed
//! bytes, decoded and checked by a writer, several at once. An entry with a data
//! descriptor (flag bit 3) ends where its deflate stream ends, which only decoding
//! finds: the reader decodes it itself, hands the bytes over to be written, and
//! checks the descriptor against what it decoded. Stored and zstd entries with a
//! descriptor are refused ([`UnzipError::EntryEndUnknown`], on the seekable path
//! too): nothing in their data marks its end.
//!
//! # The check at the end
//!
//! At the central directory's signature the reader keeps the rest of the stream (the
//! directory, the end records, the comment). Everything the plan reads it has kept
//! on the way: every local header, every data descriptor, every directory's few
//! bytes of data, at their offsets (`source::Sparse`). So the plan of the seekable
//! path runs on that, unchanged: every rule of the seekable path (local header
//! against central record, descriptors, extra fields, types, names, counts, every
//! byte owned by exactly one entry) is checked against what was streamed. The plan
//! reads no file's data, so it can read a sound archive in what the stream kept and
//! still cut it into other entries than the walk did (a descriptor and a local header
//! hidden in a local extra field, read by the central directory's offsets and sizes,
//! and never reached by the walk): so the walk's entries must be the plan's, each
//! from the same local header to the same last byte, and the files written the plan's
//! files, byte for byte as it declares them. The check runs while the writers finish
//! their last files (it reads only what the walk kept); a writer's failure still wins
//! over its verdict. Only then does the caller publish. A mismatch anywhere, a stream
//! that fails or ends early ([`UnzipError::StreamRead`], [`UnzipError::StreamEnded`],
//! with the byte), and a caller that gives up (an error or a panic of its reader)
//! publish nothing.
//!
//! # Memory
//!
//! The blocks in flight (16 MiB), the decoding buffers of the threads that write (as
//! on the seekable path; a large entry's thread also has two 256 KiB buffers on their
//! way to its file), and what is kept for the check: every local header and
//! descriptor and the central directory, at most [`KEEP_MAX`] bytes together
//! ([`UnzipError::RecordsTooLarge`] past that), each held once (the central
//! directory in runs of 1 MiB, never in a buffer that doubles as it grows). Besides,
//! per entry walked, its path (in the tree of paths, and in the files written) and
//! its span, a few times the bytes of its local header; the directories made, as
//! components in a trie like the tree's, so a name 64 levels deep costs its own
//! bytes and not its 64 prefixes; and the files waiting for a
//! writer in order, at most `QUEUED_MAX` (4,096; `writers.rs`), each with its entry
//! and its path, and a slice of its block or, while its bytes are still to come, a
//! channel. The check at the end then runs the plan, with the plan's memory
//! (`plan.rs`: at most 16 times the central directory, plus 1 MiB), while the writers
//! finish: the two add up. Nothing is sized by a claim of the archive. Measured
//! (peak heap, blocks included): 100,000 one-byte files, 46 MiB (the seekable path:
//! 15 MiB), about 480 bytes per entry in all.

mod blocks;
mod check;
mod forward;
mod input;
mod local;
mod writers;

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use crate::sync::stream::{Sender, unbounded};

pub(crate) use self::blocks::BLOCK_LEN;
pub(crate) use self::blocks::Block;
use self::blocks::Pool;
use self::check::{StreamedFile, compare, compare_spans};
pub(crate) use self::input::CopyStopped;
use self::input::{Input, InputError};
use self::local::{LocalEntry, Rules};
use self::writers::{Content, Job, Pieces, Writers};
#[cfg(shuttle)]
pub(crate) use self::{blocks::BLOCKS, writers::LARGE};
use super::UnzipError;
use super::fs_names::FsRules;
use super::limits::Limits;
use super::plan::{self, FileEntry, Plan};
use super::progress::{Label, ProgressFn, Tracker};
use super::source::Sparse;
use super::tree::{DirSet, Tree};
use crate::fs::Dir;
use crate::unzip::format::{central, end, local_header};

/// The most bytes of records (local headers, data descriptors, a directory's data,
/// the central directory and end records) a streaming extraction keeps for its check:
/// the plan's bound on them, which the seekable path applies too.
pub(crate) const KEEP_MAX: usize = plan::RECORDS_MAX;

/// The signatures the stream walk meets where an entry may start: the records' own.
const LOCAL: u32 = local_header::SIGNATURE;
const CENTRAL: u32 = central::SIGNATURE;
const END: u32 = end::END_SIGNATURE;
const ZIP64_END: u32 = end::ZIP64_END_SIGNATURE;

impl From<InputError> for UnzipError {
    fn from(error: InputError) -> Self {
        match error {
            InputError::Read { offset, source } => UnzipError::StreamRead { offset, source },
            InputError::Ended { offset } => UnzipError::StreamEnded { offset },
        }
    }
}

/// Refuses to keep more than [`KEEP_MAX`] bytes.
fn kept_len(kept: usize) -> Result<(), UnzipError> {
    if kept > KEEP_MAX {
        return Err(UnzipError::RecordsTooLarge {
            limit: KEEP_MAX as u64,
        });
    }
    Ok(())
}

/// How to run one streaming extraction.
pub(crate) struct Settings<'a> {
    pub(crate) limits: &'a Limits,
    /// Length of the directory path entries are written under.
    pub(crate) base_len: usize,
    pub(crate) needs_chmod: bool,
    pub(crate) durable: bool,
    pub(crate) progress: Option<ProgressFn>,
    pub(crate) label: &'a Label,
    /// Where every block goes too, when the archive's bytes are kept.
    pub(crate) copy: Option<Sender<Arc<Block>>>,
    /// Hash every byte (SHA-256).
    pub(crate) hash: bool,
    /// The cores the writers schedule for; the machine's when `None` (always, but in
    /// tests).
    pub(crate) cores: Option<usize>,
}

/// What a streaming extraction wrote, checked.
#[derive(Debug)]
pub(crate) struct Streamed {
    /// The plan of the archive, which the files written match.
    pub(crate) plan: Plan,
    /// The SHA-256 of the whole stream, if it was asked for.
    pub(crate) sha256: Option<[u8; 32]>,
    /// Its length.
    pub(crate) len: u64,
}

/// Reads `reader` to its end, writing its entries under `root`, and checks the whole
/// archive (see the module docs).
///
/// # Errors
///
/// Every refusal of the seekable path, the stream's own ([`UnzipError::StreamRead`],
/// [`UnzipError::StreamEnded`], [`UnzipError::StreamJunk`],
/// [`UnzipError::RecordsTooLarge`]), and the writers' (content and I/O).
///
/// # Panics
///
/// Resumes a panic of the progress callback, once no writer runs.
pub(crate) fn extract<R: Read>(
    reader: R,
    root: &Dir,
    mut settings: Settings<'_>,
) -> Result<Streamed, UnzipError> {
    let tracker = Tracker::new(settings.progress.take(), settings.label, 0, 0);
    tracker.start();
    let mut writers = Writers::start(
        root.try_clone().map_err(UnzipError::write(root.path()))?,
        settings.needs_chmod,
        settings.durable,
        tracker,
        settings.cores,
    )?;
    let pool = Pool::telling(writers.reader_waits());
    let mut input = Input::new(reader, &pool, settings.copy.take(), settings.hash);
    let mut walk = Walk {
        root,
        input: &mut input,
        pool: &pool,
        writers: &mut writers,
        rules: Rules {
            limits: settings.limits,
            base_len: settings.base_len,
            tree: Tree::new(FsRules::HOST, settings.limits.max_entries, 0),
            total: 0,
        },
        needs_chmod: settings.needs_chmod,
        made: DirSet::default(),
        kept: Vec::new(),
        kept_len: 0,
        files: HashMap::new(),
        spans: Vec::new(),
        index: 0,
    };
    let walked = walk.run();
    let (made, kept, files, spans) = (walk.made, walk.kept, walk.files, walk.spans);
    // The reader's own failure counts at the entry it was at; a writer's at a lower
    // entry, or at the same one, wins (`Failures::fail_reading`), so the error
    // reported does not depend on timing.
    let tail = match walked {
        Ok(tail) => Some(tail),
        Err(Stopped::At(index, error)) => {
            writers.fail(index, error);
            None
        }
        Err(Stopped::ForWriters) => None,
    };
    // The check of the whole archive runs while the writers finish their last files:
    // it reads only what the walk kept. Its verdict counts only once theirs is in, so
    // a writer's failure still wins, as it would if the check came after.
    // Not once a writer has failed: its error is the verdict, and the plan's memory
    // would be spent for nothing.
    let tail = tail.filter(|_| !writers.failed());
    let checked = tail.map(|(tail_at, tail)| {
        let walked = Walked {
            kept,
            files,
            made: &made,
            spans: &spans,
        };
        check_archive(&mut input, tail_at, tail, walked, &settings)
    });
    writers.finish()?;
    let Some(checked) = checked else {
        unreachable!("a failure of the walk or of a writer is the writers' verdict")
    };
    let plan = checked?;
    Ok(Streamed {
        plan,
        sha256: input.sha256(),
        len: input.offset(),
    })
}

/// What the walk found and kept, for the check at the end.
struct Walked<'a> {
    /// Records at their offsets.
    kept: Vec<(u64, Vec<u8>)>,
    /// Files written, by the offset of their data.
    files: HashMap<u64, StreamedFile>,
    /// Directories made.
    made: &'a DirSet,
    /// Each entry's local header offset and one past its last byte.
    spans: &'a [(u64, u64)],
}

/// Runs the plan of the seekable path on what the walk kept (the records, and the
/// stream's end from `tail_at`), and checks that the walk's entries and files are the
/// plan's.
fn check_archive<R: Read>(
    input: &mut Input<'_, R>,
    tail_at: u64,
    tail: Vec<Vec<u8>>,
    walked: Walked<'_>,
    settings: &Settings<'_>,
) -> Result<Plan, UnzipError> {
    let Walked {
        kept,
        files,
        made,
        spans,
    } = walked;
    let len = input.offset();
    // The end of the stream: the central directory and end records, and the window
    // readers scan for the end record, which may reach back into the last entries.
    let (recent_at, recent) = input.recent();
    let (end_at, end) = if recent_at < tail_at {
        (recent_at, vec![recent])
    } else {
        (tail_at, tail)
    };
    let mut sparse = Sparse::new(len);
    for (offset, bytes) in kept.into_iter().filter(|(offset, _)| *offset < end_at) {
        sparse.keep(offset, bytes);
    }
    // In runs, one after the other: reads of the plan go on from one to the next.
    let mut at = end_at;
    for run in end {
        let run_len = run.len() as u64;
        sparse.keep(at, run);
        at += run_len;
    }
    let (plan, planned) = plan::plan_with_spans(
        &sparse,
        settings.label.archive.as_ref(),
        settings.limits,
        settings.base_len,
    )
    .map_err(|error| ended_early(error, len))?;
    compare_spans(&planned, spans)?;
    compare(&plan, files, made)?;
    Ok(plan)
}

/// The plan's verdict on a stream, where the stream's end record is missing or its
/// comment runs past the last byte: the stream ended before the archive did, at its
/// last byte ([`UnzipError::StreamEnded`], as a stream cut before its central
/// directory is). The seekable path names the same file cut there by its structure.
fn ended_early(error: UnzipError, len: u64) -> UnzipError {
    match error {
        // Only the search for the end record gives this verdict (`end::read`); the
        // kept bytes are in memory, so no read of them fails.
        UnzipError::CentralDirectory { .. } => UnzipError::StreamEnded { offset: len },
        UnzipError::CommentNotAtEnd {
            end_record,
            comment_len,
            file_len,
        } if end_record + end::END_LEN + u64::from(comment_len) > file_len => {
            UnzipError::StreamEnded { offset: len }
        }
        other => other,
    }
}

/// Why the walk stopped before the central directory.
enum Stopped {
    /// At this entry, with this error.
    At(usize, UnzipError),
    /// A writer failed: its error is the verdict.
    ForWriters,
}

/// The state of the walk over the stream.
struct Walk<'a, 'p, R> {
    root: &'a Dir,
    input: &'a mut Input<'p, R>,
    pool: &'p Pool,
    writers: &'a mut Writers,
    rules: Rules<'a>,
    needs_chmod: bool,
    /// Directories made so far.
    made: DirSet,
    /// Bytes kept for the check, at their offsets, and how many.
    kept: Vec<(u64, Vec<u8>)>,
    kept_len: usize,
    /// Files written, by the offset of their data.
    files: HashMap<u64, StreamedFile>,
    /// Each entry walked: its local header's offset and one past its last byte.
    spans: Vec<(u64, u64)>,
    /// The next entry's position in the stream.
    index: usize,
}

impl<R: Read> Walk<'_, '_, R> {
    /// Walks entries until the central directory; returns where it starts and every
    /// byte from there to the end (in runs). An error comes with the entry it happened at.
    fn run(&mut self) -> Result<(u64, Vec<Vec<u8>>), Stopped> {
        loop {
            if self.writers.failed() {
                return Err(Stopped::ForWriters);
            }
            let index = self.index;
            let at = |error| Stopped::At(index, error);
            let offset = self.input.offset();
            let mut signature = [0u8; 4];
            self.input
                .read_exact(&mut signature)
                .map_err(|e| at(e.into()))?;
            match u32::from_le_bytes(signature) {
                LOCAL => {}
                CENTRAL | END | ZIP64_END => {
                    let room = KEEP_MAX.saturating_sub(self.kept_len + 4);
                    let tail = self
                        .input
                        .rest(&signature, room)
                        .map_err(|e| at(e.into()))?;
                    let Some(tail) = tail else {
                        return Err(at(UnzipError::RecordsTooLarge {
                            limit: KEEP_MAX as u64,
                        }));
                    };
                    return Ok((offset, tail));
                }
                found => return Err(at(UnzipError::StreamJunk { offset, found })),
            }
            let mut entry = local::read_entry(
                self.input,
                index,
                offset,
                &mut self.rules,
                &mut self.kept_len,
            )
            .map_err(at)?;
            entry.offset = offset;
            self.kept.push((offset, std::mem::take(&mut entry.header)));
            self.entry(&entry).map_err(at)?;
            self.spans.push((offset, self.input.offset()));
            self.index += 1;
        }
    }

    /// Makes the entry's directories and hands its data over (or keeps it, for a
    /// directory).
    fn entry(&mut self, entry: &LocalEntry) -> Result<(), UnzipError> {
        if entry.is_dir {
            self.make_dirs(&entry.path)?;
            return self.directory_data(entry);
        }
        if let Some((parent, _)) = entry.path.rsplit_once('/') {
            self.make_dirs(parent)?;
        }
        let data_start = self.input.offset();
        let file = FileEntry {
            index: entry.index,
            name: entry.name.clone(),
            path: entry.path.clone(),
            data_start,
            compressed_size: entry.compressed,
            size: entry.size,
            crc32: entry.crc32,
            method: entry.method,
            executable: false,
        };
        let (size, crc32) = if entry.deferred {
            let (tx, rx) = unbounded();
            self.writers.submit(Job {
                entry: file,
                content: Content::Plain,
                pieces: Pieces::Arriving(rx),
            })?;
            let writers = &*self.writers;
            let failed = || writers.failed();
            let limits = (self.rules.limits, self.rules.total);
            let decoded = forward::decode(self.input, self.pool, entry, limits, tx, &failed)?;
            self.check_decoded(entry, &decoded)?;
            self.keep(decoded.descriptor_at, decoded.descriptor)?;
            self.writers.grow(decoded.size);
            (decoded.size, decoded.crc32)
        } else {
            // All of its bytes in the block at hand are handed over as they are; the
            // others are sent as they arrive.
            let (pieces, arriving) = match self.in_hand(entry.compressed) {
                Some(ready) => (Pieces::Ready(ready), None),
                None => {
                    let (tx, rx) = unbounded();
                    (Pieces::Arriving(rx), Some(tx))
                }
            };
            self.writers.grow(entry.size);
            self.writers.submit(Job {
                entry: file,
                content: Content::Encoded,
                pieces,
            })?;
            if let Some(tx) = arriving {
                self.send(entry.compressed, &tx)?;
            }
            (entry.size, entry.crc32)
        };
        self.files.insert(
            data_start,
            StreamedFile {
                path: entry.path.clone(),
                size,
                crc32,
            },
        );
        Ok(())
    }

    /// The next `len` bytes of the stream as one slice (none if `len` is 0), consumed,
    /// if they are all in the block at hand: nothing is read for them.
    fn in_hand(&mut self, len: u64) -> Option<Option<blocks::Slice>> {
        let len = usize::try_from(len).ok()?;
        if len == 0 {
            return Some(None);
        }
        self.input.take_in_hand(len).map(Some)
    }

    /// Hands the next `len` bytes of the stream over, as slices of their blocks.
    fn send(&mut self, len: u64, tx: &Sender<blocks::Slice>) -> Result<(), UnzipError> {
        let mut left = len;
        while left > 0 {
            // A failure at this entry (its writer refused its data) or below it makes
            // the rest of this entry pointless: the walk stops at its next step. Not
            // reading on matters, since nothing else bounds an entry's compressed size
            // (a stream that declares a petabyte would be read to its end first).
            if self.writers.failed() {
                return Ok(());
            }
            let max = usize::try_from(left).unwrap_or(usize::MAX).min(BLOCK_LEN);
            let Some(slice) = self.input.take(max)? else {
                return Err(UnzipError::StreamEnded {
                    offset: self.input.offset(),
                });
            };
            left -= slice.len() as u64;
            // A writer that stopped (a failure) no longer listens: its error stands.
            let _ = tx.send(slice);
        }
        Ok(())
    }

    /// A directory's data: nothing, or a few bytes that must be one empty stream. They
    /// are kept for the plan's check (which also refuses anything else).
    fn directory_data(&mut self, entry: &LocalEntry) -> Result<(), UnzipError> {
        let data_start = self.input.offset();
        if entry.deferred {
            let decoded = forward::decode_directory(self.input, entry)?;
            self.keep(data_start, decoded.data)?;
            self.keep(decoded.descriptor_at, decoded.descriptor)?;
            return Ok(());
        }
        // `directory_data` bounded the size by a small constant.
        let mut data = vec![0u8; usize::try_from(entry.compressed).unwrap_or(0)];
        self.input.read_exact(&mut data)?;
        self.keep(data_start, data)
    }

    /// Limits that only the decoded data can be checked against, and the descriptor
    /// against it.
    fn check_decoded(
        &mut self,
        entry: &LocalEntry,
        decoded: &forward::Decoded,
    ) -> Result<(), UnzipError> {
        let declared = crate::unzip::placement::Declared {
            method: entry.method,
            flags: 0,
            size: decoded.size,
            compressed: decoded.compressed,
            crc32: decoded.crc32,
        };
        plan::check_declared_sizes(
            entry.index,
            &entry.name,
            &declared,
            self.rules.limits,
            &mut self.rules.total,
        )
    }

    fn keep(&mut self, offset: u64, bytes: Vec<u8>) -> Result<(), UnzipError> {
        self.kept_len += bytes.len();
        kept_len(self.kept_len)?;
        self.kept.push((offset, bytes));
        Ok(())
    }

    /// Makes the directory `path` and every missing parent, descending from the
    /// deepest one already made through handles: one `openat2` of that one (none for
    /// the root), then a `mkdirat` per level and an `openat` per level but the last
    /// (that one too when its mode must be set), however deep.
    fn make_dirs(&mut self, path: &str) -> Result<(), UnzipError> {
        // The missing ones are a chain below the deepest directory already made.
        let (made_len, mut node) = self.made.deepest(path);
        if made_len == path.len() {
            return Ok(());
        }
        let root_path = self.root.path().to_owned();
        let error = |at: &str| {
            let path = root_path.join(at);
            move |source| UnzipError::Write { path, source }
        };
        let base = &path[..made_len];
        // The deepest directory made, then each one made below it: opened only to
        // make the next one in it or to set its mode, and only for this call, so a
        // directory is always reached from the root when the walk comes back to it.
        let mut held: Option<Dir> = if base.is_empty() {
            None
        } else {
            Some(self.root.open_dir_beneath(base).map_err(error(base))?)
        };
        let start = if base.is_empty() { 0 } else { made_len + 1 };
        let mut end = start;
        for component in path[start..].split('/') {
            end += component.len();
            let here = &path[..end];
            let at = held.as_ref().unwrap_or(self.root);
            at.make_dir(component).map_err(error(here))?;
            let last = end == path.len();
            if self.needs_chmod || !last {
                let child = at.open_dir(component).map_err(error(here))?;
                if self.needs_chmod {
                    child.set_dir_mode().map_err(error(here))?;
                }
                held = Some(child);
            }
            node = self.made.add(node, component);
            end += 1;
        }
        Ok(())
    }
}

/// Sets the mode of every file the central directory marks executable, once the
/// check has passed (a stream learns the modes only from the central directory).
pub(crate) fn apply_modes(root: &Dir, plan: &Plan) -> Result<(), UnzipError> {
    for entry in plan.files.iter().filter(|entry| entry.executable) {
        root.set_file_mode_beneath(&entry.path, 0o755)
            .map_err(UnzipError::write(&root.path().join(&entry.path)))?;
    }
    Ok(())
}

/// The path a streamed archive is named by in errors and progress reports.
pub(crate) fn stream_label(given: Option<&Path>) -> Arc<Path> {
    Arc::from(given.unwrap_or_else(|| Path::new("<stream>")))
}

#[cfg(test)]
mod tests {
    use std::io::{Cursor, Write};
    use std::path::Path;

    use zip::write::SimpleFileOptions;

    use super::input::tests::Trickle;
    use super::*;

    /// Bytes that deflate to about two thirds of their length.
    fn semi_random(len: usize, seed: u64) -> Vec<u8> {
        let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                b"abcdefghijklmnopqrstuvwxyz0123456789"[(state % 36) as usize]
            })
            .collect()
    }

    /// Large entries between small files, more bytes than the pool's blocks.
    fn archive() -> (Vec<u8>, Vec<(String, Vec<u8>)>) {
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options =
            SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        let mut files = Vec::new();
        for i in 0..20u64 {
            files.push((format!("libs/lib{i}.so"), semi_random((3 << 19) + 4099, i)));
            for j in 0..20 {
                files.push((
                    format!("pkg/m{i}/f{j}.py"),
                    format!("x = {i} + {j}\n").into(),
                ));
            }
        }
        for (name, content) in &files {
            zip.start_file(name.as_str(), options).unwrap();
            zip.write_all(content).unwrap();
        }
        (zip.finish().unwrap().into_inner(), files)
    }

    /// On one core and on two, large entries on threads of their own hold the writers
    /// in order back while they have bytes in hand and let them go when they wait for
    /// more, end, or the reading thread waits for a block: an archive of large entries
    /// between small files, bigger than the blocks, extracts whole within a deadline,
    /// however the stream arrives.
    #[test]
    fn large_entries_and_small_files_extract_on_one_core_or_two_however_they_arrive() {
        let (bytes, files) = archive();
        assert!(
            bytes.len() > blocks::BLOCKS * BLOCK_LEN,
            "more than the pool"
        );
        for cores in [1, 2] {
            for max in [usize::MAX, 64 << 10, 4096] {
                let dir = tempfile::tempdir().unwrap();
                let (tx, rx) = crossbeam_channel::bounded(1);
                let bytes = bytes.clone();
                let path = dir.path().to_owned();
                std::thread::spawn(move || {
                    let stream = Trickle(&bytes, max);
                    let root = Dir::open(&path).unwrap();
                    let label = Label {
                        archive: Arc::from(Path::new("test.zip")),
                        id: None,
                    };
                    let settings = Settings {
                        limits: &Limits::default(),
                        base_len: path.as_os_str().len(),
                        needs_chmod: false,
                        durable: false,
                        progress: None,
                        label: &label,
                        copy: None,
                        hash: false,
                        cores: Some(cores),
                    };
                    let _ = tx.send(extract(stream, &root, settings).map(|s| s.plan.files.len()));
                });
                let done = rx
                    .recv_timeout(std::time::Duration::from_secs(120))
                    .unwrap_or_else(|_| panic!("{cores} cores, reads of {max}: no end"));
                assert_eq!(done.unwrap(), files.len(), "{cores} cores, reads of {max}");
                for (name, content) in &files {
                    let written = std::fs::read(dir.path().join(name)).unwrap();
                    assert!(written == *content, "{name}: {cores} cores, reads of {max}");
                }
            }
        }
    }
}
