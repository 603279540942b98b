//! CPython's `zipfile` beyond extraction (which [`crate::readers`] runs with the
//! other readers): what it lists, and archives it writes.
//!
//! When `python3` is missing the checks print a skip line and pass, unless
//! `INFLIGHT_REQUIRE_PYTHON=1` or `INFLIGHT_REQUIRE_READERS=1` is set (CI sets both),
//! in which case they fail.

use std::path::Path;
use std::process::Command;

use crate::readers::Reader;

/// Whether `python3` runs; panics when it does not and it is required (see
/// [`crate::readers`]).
pub(crate) fn available() -> bool {
    Reader::CPython.available()
}

fn run(script: &str, args: &[&Path]) -> std::process::Output {
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "python3 failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The names CPython lists, in central directory order; `None` if python3 is
/// missing.
pub(crate) fn names(archive: &Path) -> Option<Vec<String>> {
    if !available() {
        return None;
    }
    let out = run(
        "import zipfile, sys\nfor n in zipfile.ZipFile(sys.argv[1]).namelist(): print(n)",
        &[archive],
    );
    Some(
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect(),
    )
}

/// Runs a Python snippet that writes an archive to `sys.argv[1]` and returns its
/// bytes; `None` if python3 is missing.
pub(crate) fn write(script: &str) -> Option<Vec<u8>> {
    if !available() {
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("python.zip");
    run(script, &[&path]);
    Some(std::fs::read(&path).unwrap())
}

pub(crate) use crate::common::tree;
