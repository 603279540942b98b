//! Arbitrary bytes as an archive, read every way the crate reads one; they must all
//! give one verdict, never panic, and never write outside the staging directory.
//!
//! Each input goes through:
//!
//! 1. `Unzipper::unzip` with the default in-memory limit (with `--features
//!    libdeflate`, deflated entries are inflated in memory in one call);
//! 2. `Unzipper::unzip` with none (every entry streams through zlib);
//! 3. `Unzipper::unzip_reader`, from a plain `Read` that hands the bytes out in
//!    chunks of input-derived sizes (from one byte to more than a pool block), so
//!    records and entries straddle block boundaries;
//! 4. `Archive::from_bytes`, and `Archive::read` of every file it lists.
//!
//! Every extraction runs in `root/a/b/parent/dest`: nothing may appear outside
//! `parent/` (an escape of up to three levels would show), on failure `parent/` must
//! be empty (but for the empty lock files of staging slots), and on success it holds
//! only `dest`, with only regular files and directories inside, as many as the
//! `Extracted` it returned counts, and its progress reports count every file and byte
//! by the time it returns.
//!
//! What must agree:
//!
//! - (1) and (2): the same files, or the same error. The one allowed difference is
//!   the one `src/unzip/decode/whole.rs` documents: libdeflate decodes reserved
//!   deflate symbols that zlib refuses, so (1) may succeed where (2) reports corrupt
//!   data.
//! - (2) and (3): both refuse (the errors may differ: a stream stops at the first
//!   byte it cannot walk past), or both write the same tree: the same paths, kinds,
//!   bytes and modes.
//! - (2) and (4): the archive opens exactly when the seekable plan accepts it (an
//!   extraction refused for an entry's content, or for a path too long for the
//!   staging directory, was planned: `Archive` writes nothing and has no base path).
//!   Then every member reads as the extracted file, and when the extraction failed
//!   on content, some member's read fails too.
//!
//! Run (from the crate root), after writing the forged seed corpus:
//!
//! ```sh
//! (cd fuzz && cargo run --bin seeds -- corpus/unzip)
//! cargo +nightly fuzz run unzip fuzz/corpus/unzip -- -max_total_time=600
//! ```
#![no_main]

use std::io::Read;
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};

use inflight::{Archive, Extracted, Limits, Progress, UnzipError, Unzipper};
use libfuzzer_sys::fuzz_target;

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// What is in `dir` besides the empty lock files of staging slots
/// (`.<name>.staging-<k>.lock`), which stay in place by design.
fn beside(dir: &Path) -> Vec<String> {
    names(dir)
        .into_iter()
        .filter(|name| {
            let lock = name.starts_with('.') && name.contains(".staging-") && name.ends_with(".lock");
            !(lock && std::fs::metadata(dir.join(name)).unwrap().len() == 0)
        })
        .collect()
}

/// The limits every reading uses: small enough that one input cannot write gigabytes.
fn limits() -> Limits {
    let mut limits = Limits::default();
    limits.max_total_size = 64 << 20;
    limits
}

/// The most files and bytes done that the progress reports of the running extraction
/// gave (one extraction runs at a time).
static DONE: Mutex<(usize, u64)> = Mutex::new((0, 0));

fn record(progress: Progress) {
    assert!(progress.files_done <= progress.files_total, "{progress:?}");
    assert!(progress.bytes_done <= progress.bytes_total, "{progress:?}");
    let mut done = DONE.lock().unwrap();
    *done = (done.0.max(progress.files_done), done.1.max(progress.bytes_done));
}

/// The two unzippers: the default in-memory limit, and streaming only.
fn unzippers() -> &'static [Unzipper; 2] {
    static UNZIPPERS: OnceLock<[Unzipper; 2]> = OnceLock::new();
    UNZIPPERS.get_or_init(|| {
        let pool = Arc::new(rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap());
        let unzipper = Unzipper::new().limits(limits()).thread_pool(pool).progress(record);
        [unzipper.clone(), unzipper.in_memory_limit(0)]
    })
}

/// What is at one path of an extracted tree.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Node {
    Dir { mode: u32 },
    File { mode: u32, bytes: Vec<u8> },
}

/// The permission bits (0 where the platform has none).
fn mode(meta: &std::fs::Metadata) -> u32 {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        meta.permissions().mode() & 0o7777
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        0
    }
}

/// Every file and directory under `dir`, sorted by path (`/` between components);
/// anything else fails the run.
fn tree(dir: &Path, base: &Path, out: &mut Vec<(String, Node)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let rel = path
            .strip_prefix(base)
            .unwrap()
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join("/");
        let meta = std::fs::symlink_metadata(&path).unwrap();
        if meta.is_dir() {
            out.push((rel, Node::Dir { mode: mode(&meta) }));
            tree(&path, base, out);
        } else {
            assert!(meta.is_file(), "{} is neither file nor directory", path.display());
            let bytes = std::fs::read(&path).unwrap();
            out.push((rel, Node::File { mode: mode(&meta), bytes }));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
}

/// What one extraction gave: the tree, or the error and its text.
type Outcome = Result<Vec<(String, Node)>, (UnzipError, String)>;

/// Runs `extract(archive, dest)` in a scene where an escape would show, and checks
/// what it left.
fn extract(data: &[u8], run: impl FnOnce(&Path, &Path) -> Result<Extracted, UnzipError>) -> Outcome {
    // root/a/b/{archive.zip, parent/dest}: an escape of up to three levels would show
    // in one of the listings below. On tmpfs where there is one: three extractions
    // per input create and remove thousands of files a second.
    let shm = Path::new("/dev/shm");
    let root = if shm.is_dir() {
        tempfile::tempdir_in(shm).unwrap()
    } else {
        tempfile::tempdir().unwrap()
    };
    let b = root.path().join("a/b");
    std::fs::create_dir_all(b.join("parent")).unwrap();
    let archive = b.join("archive.zip");
    std::fs::write(&archive, data).unwrap();
    let dest = b.join("parent/dest");

    *DONE.lock().unwrap() = (0, 0);
    let result = run(&archive, &dest);

    assert_eq!(names(root.path()), ["a"]);
    assert_eq!(names(&root.path().join("a")), ["b"]);
    assert_eq!(names(&b), ["archive.zip", "parent"]);
    match result {
        Ok(done) => {
            assert_eq!(beside(&b.join("parent")), ["dest"]);
            assert_eq!(done.dest, dest);
            let mut files = Vec::new();
            tree(&dest, &dest, &mut files);
            let (dirs, regular) = files.iter().fold((0, 0), |(d, f), (_, node)| match node {
                Node::Dir { .. } => (d + 1, f),
                Node::File { .. } => (d, f + 1),
            });
            assert_eq!((done.dirs, done.files), (dirs, regular), "the counts reported");
            // Every extraction's workers are done when it returns: its last progress
            // report counts every file and byte.
            assert_eq!(*DONE.lock().unwrap(), (done.files, done.bytes), "the progress reports");
            Ok(files)
        }
        Err(error) => {
            assert!(beside(&b.join("parent")).is_empty(), "failure left something in parent/");
            let root = root.path().to_string_lossy().into_owned();
            let text = format!("{error:?}").replace(&root, "<root>");
            Err((error, text))
        }
    }
}

/// A download: the input's bytes in chunks whose sizes a small generator seeded by
/// the input picks, from one byte (records cut anywhere) to more than a pool block
/// (64 KiB: a read that fills a block).
struct Chunks<'a> {
    bytes: &'a [u8],
    state: u64,
}

impl<'a> Chunks<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        let seed = u64::from(crc32fast::hash(bytes)) << 1 | 1;
        Chunks { bytes, state: seed }
    }

    /// xorshift64*.
    fn next(&mut self) -> u64 {
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        self.state.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

impl Read for Chunks<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let r = self.next();
        // A quarter of the reads tiny, a quarter short, a quarter a few KiB, a quarter
        // as much as asked for.
        let max = match r & 3 {
            0 => 1 + (r >> 8) % 8,
            1 => 1 + (r >> 8) % 100,
            2 => 1 + (r >> 8) % 5000,
            _ => u64::MAX,
        };
        let n = buf
            .len()
            .min(self.bytes.len())
            .min(usize::try_from(max).unwrap_or(usize::MAX));
        buf[..n].copy_from_slice(&self.bytes[..n]);
        self.bytes = &self.bytes[n..];
        Ok(n)
    }
}

/// Errors of an entry's content: the plan accepted the archive.
fn is_content_error(error: &UnzipError) -> bool {
    matches!(
        error,
        UnzipError::ExceedsDeclaredSize { .. }
            | UnzipError::SizeMismatch { .. }
            | UnzipError::CrcMismatch { .. }
            | UnzipError::TrailingData { .. }
            | UnzipError::CorruptData { .. }
    )
}

/// The archive in memory, read member by member, against the seekable extraction
/// (without in-memory inflation: `Archive::read` streams every member through zlib).
fn check_archive(data: &[u8], seekable: &Outcome) {
    let archive = Archive::from_bytes_with(data.to_vec(), limits());
    match (seekable, &archive) {
        (Ok(tree), Ok(archive)) => {
            let extracted: Vec<(&str, &[u8])> = tree
                .iter()
                .filter_map(|(path, node)| match node {
                    Node::File { bytes, .. } => Some((path.as_str(), bytes.as_slice())),
                    Node::Dir { .. } => None,
                })
                .collect();
            let mut listed: Vec<&str> = archive.files().collect();
            listed.sort_unstable();
            let paths: Vec<&str> = extracted.iter().map(|(path, _)| *path).collect();
            assert_eq!(listed, paths, "Archive lists other files than were extracted");
            for (path, bytes) in extracted {
                let read = archive.read(path);
                assert!(
                    read.as_deref().is_ok_and(|read| read == bytes),
                    "Archive::read({path}) differs from the extracted file: {read:?}"
                );
            }
        }
        (Err((error, _)), Ok(archive)) => {
            if is_content_error(error) {
                let failed = archive.files().any(|path| archive.read(path).is_err());
                assert!(failed, "every member reads, but the extraction failed: {error:?}");
            } else {
                assert!(
                    matches!(error, UnzipError::PathTooLong { .. }),
                    "Archive accepts what the plan refuses: {error:?}"
                );
            }
        }
        (Ok(_), Err(error)) => panic!("Archive refuses what was extracted: {error:?}"),
        (Err((error, _)), Err(refusal)) => assert!(
            !is_content_error(error),
            "Archive refuses ({refusal:?}) what the plan accepted ({error:?})"
        ),
    }
}

fuzz_target!(|data: &[u8]| {
    let [in_memory, streaming] = unzippers();
    let fast = extract(data, |archive, dest| in_memory.unzip(archive, dest));
    let slow = extract(data, |archive, dest| streaming.unzip(archive, dest));
    match (&fast, &slow) {
        // libdeflate's known leniency (reserved symbols): only with the feature.
        (Ok(_), Err((_, text))) if cfg!(feature = "libdeflate") && text.contains("CorruptData") => {}
        (Ok(a), Ok(b)) => assert!(a == b, "the in-memory and the streaming decoders wrote other files"),
        (Err((_, a)), Err((_, b))) => assert_eq!(a, b, "the in-memory and the streaming decoders disagree"),
        _ => panic!("the in-memory and the streaming decoders disagree: {fast:?} / {slow:?}"),
    }

    let streamed = extract(data, |_, dest| streaming.unzip_reader(Chunks::new(data), dest));
    match (&slow, &streamed) {
        (Ok(a), Ok(b)) => assert!(a == b, "unzip_reader wrote another tree than unzip"),
        (Err(_), Err(_)) => {}
        (Ok(_), Err((error, _))) => panic!("unzip_reader refuses what unzip extracts: {error:?}"),
        (Err((error, _)), Ok(_)) => panic!("unzip_reader extracts what unzip refuses: {error:?}"),
    }

    check_archive(data, &slow);
});
