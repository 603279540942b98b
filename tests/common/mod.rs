//! Helpers shared by every integration test binary, included with
//! `#[path = "../common/mod.rs"] mod common;`. Each binary uses a different subset.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::panic::{self, AssertUnwindSafe};
use std::path::Path;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

/// Runs `scenario` on its own thread and returns its result, failing the test if it
/// takes longer than `limit` (a hang) instead of blocking CI. A panic in the scenario
/// (a failed assertion) is re-raised here as itself, not reported as a hang.
pub(crate) fn within<T, F>(limit: Duration, what: &str, scenario: F) -> T
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let (tx, rx) = mpsc::channel();
    thread::Builder::new()
        .name(format!("scenario: {what}"))
        .spawn(move || {
            let _ = tx.send(panic::catch_unwind(AssertUnwindSafe(scenario)));
        })
        .expect("spawn the scenario thread");
    match rx.recv_timeout(limit) {
        Ok(Ok(value)) => value,
        Ok(Err(payload)) => panic::resume_unwind(payload),
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("{what}: still running after {limit:?}; a wait is hanging")
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            unreachable!("the scenario thread always sends its result")
        }
    }
}

/// `limit` in seconds, for [`within`].
pub(crate) fn secs(limit: u64) -> Duration {
    Duration::from_secs(limit)
}

/// What is at a path of a [`tree`]: a directory, or a file and its bytes.
pub(crate) type Tree = BTreeMap<String, Option<Vec<u8>>>;

/// What is at a path, as found on disk, links not followed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Found {
    Dir,
    File(Vec<u8>),
    /// A symbolic link, with its target.
    Link(std::path::PathBuf),
    /// A FIFO, socket or device.
    Special,
}

/// `path` relative to `root`, components joined by `/` on every platform.
pub(crate) fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap()
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

/// Everything under `root`, by relative path, symbolic links recorded as links and
/// never followed. Empty for a missing `root`.
pub(crate) fn found(root: &Path) -> BTreeMap<String, Found> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Found>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let rel = relative(root, &path);
            let meta = std::fs::symlink_metadata(&path).unwrap();
            let what = if meta.file_type().is_symlink() {
                Found::Link(std::fs::read_link(&path).unwrap())
            } else if meta.is_dir() {
                walk(root, &path, out);
                Found::Dir
            } else if meta.is_file() {
                Found::File(std::fs::read(&path).unwrap())
            } else {
                Found::Special
            };
            out.insert(rel, what);
        }
    }
    let mut out = BTreeMap::new();
    if std::fs::symlink_metadata(root).is_ok() {
        walk(root, root, &mut out);
    }
    out
}

/// Every directory (`None`) and regular file (its bytes) under `root`, by relative
/// path; panics on anything else (a link, a device). Empty for a missing `root`.
pub(crate) fn tree(root: &Path) -> Tree {
    found(root)
        .into_iter()
        .map(|(rel, what)| match what {
            Found::Dir => (rel, None),
            Found::File(bytes) => (rel, Some(bytes)),
            other => panic!("{rel} is neither file nor directory: {other:?}"),
        })
        .collect()
}

/// Every regular file under `dir` and its bytes, by relative path.
pub(crate) fn read_tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    tree(dir)
        .into_iter()
        .filter_map(|(path, data)| Some((path, data?)))
        .collect()
}

/// The names in `dir`, sorted.
pub(crate) fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The permission bits of `path` (`mode & 0o7777`); `None` where there are none
/// (Windows), so mode checks run on Unix only.
pub(crate) fn mode(path: &Path) -> Option<u32> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        Some(
            std::fs::symlink_metadata(path)
                .unwrap()
                .permissions()
                .mode()
                & 0o7777,
        )
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        None
    }
}
