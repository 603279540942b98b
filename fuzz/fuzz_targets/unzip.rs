//! Arbitrary bytes as an archive: `unzip` must never panic, and whatever it does,
//! nothing may appear outside `parent/` except the archive itself. On failure
//! `parent/` must be empty; on success it holds only `dest`, with only regular files
//! and directories inside.
//!
//! Each input is extracted twice, with the default in-memory limit (with
//! `--features libdeflate`, deflated entries are inflated in memory in one call) and
//! with none (every entry streams): both must give the same result, the same files
//! or the same error. The one allowed difference is the one `src/unzip/decode/whole.rs`
//! documents: libdeflate decodes reserved deflate symbols that zlib refuses, so the
//! in-memory path may succeed where streaming reports corrupt data.
//!
//! Run (from the crate root), after writing the forged seed corpus:
//!
//! ```sh
//! (cd fuzz && cargo run --bin seeds -- corpus/unzip)
//! cargo +nightly fuzz run unzip fuzz/corpus/unzip
//! ```
#![no_main]

use std::path::Path;
use std::sync::{Arc, OnceLock};

use inflight::{Limits, Unzipper};
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

fn only_files_and_dirs(dir: &Path) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let kind = std::fs::symlink_metadata(&path).unwrap().file_type();
        if kind.is_dir() {
            only_files_and_dirs(&path);
        } else {
            assert!(kind.is_file(), "{} is neither file nor directory", path.display());
        }
    }
}

/// The two unzippers: the default in-memory limit, and streaming only.
fn unzippers() -> &'static [Unzipper; 2] {
    static UNZIPPERS: OnceLock<[Unzipper; 2]> = OnceLock::new();
    UNZIPPERS.get_or_init(|| {
        let pool = Arc::new(rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap());
        // Small limits keep one input from writing gigabytes.
        let mut limits = Limits::default();
        limits.max_total_size = 64 << 20;
        let unzipper = Unzipper::new().limits(limits).thread_pool(pool);
        [unzipper.clone(), unzipper.in_memory_limit(0)]
    })
}

/// Every file under `dir` with its bytes, sorted by path.
fn tree(dir: &Path, base: &Path, out: &mut Vec<(String, Vec<u8>)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let rel = path.strip_prefix(base).unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            out.push((rel + "/", Vec::new()));
            tree(&path, base, out);
        } else {
            out.push((rel, std::fs::read(&path).unwrap()));
        }
    }
    out.sort();
}

/// What one extraction gave: the files, or the error's text.
fn extract(unzipper: &Unzipper, data: &[u8]) -> Result<Vec<(String, Vec<u8>)>, String> {
    // root/a/b/{archive.zip, parent/dest}: an escape of up to three levels would show
    // in one of the listings below.
    let root = tempfile::tempdir().unwrap();
    let b = root.path().join("a/b");
    std::fs::create_dir_all(b.join("parent")).unwrap();
    let archive = b.join("archive.zip");
    std::fs::write(&archive, data).unwrap();
    let dest = b.join("parent/dest");

    let result = unzipper.unzip(&archive, &dest);

    assert_eq!(names(root.path()), ["a"]);
    assert_eq!(names(&root.path().join("a")), ["b"]);
    assert_eq!(names(&b), ["archive.zip", "parent"]);
    match result {
        Ok(done) => {
            assert_eq!(beside(&b.join("parent")), ["dest"]);
            assert_eq!(done.dest, dest);
            only_files_and_dirs(&dest);
            let mut files = Vec::new();
            tree(&dest, &dest, &mut files);
            Ok(files)
        }
        Err(error) => {
            assert!(beside(&b.join("parent")).is_empty(), "failure left something in parent/");
            let root = root.path().to_string_lossy().into_owned();
            Err(format!("{error:?}").replace(&root, "<root>"))
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let [in_memory, streaming] = unzippers();
    let fast = extract(in_memory, data);
    let slow = extract(streaming, data);
    match (&fast, &slow) {
        // libdeflate's known leniency (reserved symbols): only with the feature.
        (Ok(_), Err(error)) if cfg!(feature = "libdeflate") && error.contains("CorruptData") => {}
        _ => assert_eq!(fast, slow, "the in-memory and the streaming path disagree"),
    }
});
