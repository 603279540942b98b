//! Arbitrary bytes as an archive: `unzip` must never panic, and whatever it does,
//! nothing may appear outside `parent/` except the archive itself. On failure
//! `parent/` must be empty; on success it holds only `dest`, with only regular files
//! and directories inside.
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

fn unzipper() -> &'static Unzipper {
    static UNZIPPER: OnceLock<Unzipper> = OnceLock::new();
    UNZIPPER.get_or_init(|| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
        // Small limits keep one input from writing gigabytes.
        let mut limits = Limits::default();
        limits.max_total_size = 64 << 20;
        Unzipper::new().limits(limits).thread_pool(Arc::new(pool))
    })
}

fuzz_target!(|data: &[u8]| {
    // root/a/b/{archive.zip, parent/dest}: an escape of up to three levels would show
    // in one of the listings below.
    let root = tempfile::tempdir().unwrap();
    let b = root.path().join("a/b");
    std::fs::create_dir_all(b.join("parent")).unwrap();
    let archive = b.join("archive.zip");
    std::fs::write(&archive, data).unwrap();
    let dest = b.join("parent/dest");

    let result = unzipper().unzip(&archive, &dest);

    assert_eq!(names(root.path()), ["a"]);
    assert_eq!(names(&root.path().join("a")), ["b"]);
    assert_eq!(names(&b), ["archive.zip", "parent"]);
    match result {
        Ok(done) => {
            assert_eq!(names(&b.join("parent")), ["dest"]);
            assert_eq!(done.dest, dest);
            only_files_and_dirs(&dest);
        }
        Err(_) => assert!(names(&b.join("parent")).is_empty(), "failure left something in parent/"),
    }
});
