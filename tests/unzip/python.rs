//! CPython's `zipfile` as the reference reader (it is what pip uses): what it lists,
//! what it extracts, and a check that an accepted archive extracts byte for byte to
//! what it extracts.
//!
//! When `python3` is missing the checks print a skip line and pass, unless
//! `INFLIGHT_REQUIRE_PYTHON=1` is set (CI sets it), in which case they fail.

use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

use inflight::{Extracted, Unzipper};

use crate::support::Scene;

/// Whether `python3` runs; panics when it does not and it is required.
pub(crate) fn available() -> bool {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    let found = *AVAILABLE.get_or_init(|| {
        Command::new("python3")
            .args(["-c", "import zipfile"])
            .output()
            .is_ok_and(|out| out.status.success())
    });
    if !found {
        let required = std::env::var("INFLIGHT_REQUIRE_PYTHON").is_ok_and(|v| v == "1");
        assert!(
            !required,
            "python3 with zipfile is required (INFLIGHT_REQUIRE_PYTHON=1) but does not run"
        );
        eprintln!("skipped: python3 not found, CPython comparison not run");
    }
    found
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

pub(crate) use crate::common::{Tree, tree};

/// Extracts `bytes` with the `Unzipper` and with CPython's `extractall` and asserts
/// both trees are the same: same paths, same kinds, same bytes. Returns what the
/// `Unzipper` reported and the tree.
pub(crate) fn assert_same_as_python(bytes: &[u8]) -> (Extracted, Tree) {
    let scene = Scene::new(bytes);
    let done = match scene.unzip(&Unzipper::new()) {
        Ok(done) => done,
        Err(error) => panic!("refused an archive CPython reads: {error}"),
    };
    let ours = tree(&scene.dest);
    if available() {
        let theirs = scene.root.path().join("python-out");
        run(
            "import zipfile, sys\nzipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])",
            &[&scene.archive, &theirs],
        );
        let theirs = tree(&theirs);
        assert_eq!(
            ours.keys().collect::<Vec<_>>(),
            theirs.keys().collect::<Vec<_>>(),
            "different paths from CPython"
        );
        assert!(ours == theirs, "different contents from CPython");
    }
    (done, ours)
}
