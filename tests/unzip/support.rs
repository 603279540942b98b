//! Helpers: a scene (temporary root, archive, parent, dest) that checks nothing is
//! left behind. The byte-level zip writer is in [`crate::forge`].

use std::path::{Path, PathBuf};

use inflight::{Limits, UnzipError, Unzipper};
use tempfile::TempDir;

pub(crate) use crate::forge::{Raw, build, finish};

/// `root/archive.zip`, an empty `root/parent/`, and `dest = root/parent/dest`.
pub(crate) struct Scene {
    pub(crate) root: TempDir,
    pub(crate) archive: PathBuf,
    pub(crate) dest: PathBuf,
}

impl Scene {
    /// A scene on tmpfs (`/dev/shm`) where there is one: the streaming path creates
    /// an archive's directories as they arrive, so a refused archive may have made up
    /// to `Limits::max_entries` of them first, and on ext4 without a journal creating
    /// and removing that many gets slower with every run (freed inodes are not
    /// reused at once).
    pub(crate) fn new(bytes: &[u8]) -> Scene {
        let shm = Path::new("/dev/shm");
        let dir = if shm.is_dir() {
            shm.to_owned()
        } else {
            std::env::temp_dir()
        };
        Scene::new_in(&dir, bytes)
    }

    /// A scene under `dir` (`/dev/shm` for archives of many files: creating and
    /// removing 70,000 files on a disk takes ten times as long).
    pub(crate) fn new_in(dir: &Path, bytes: &[u8]) -> Scene {
        let root = tempfile::tempdir_in(dir).unwrap();
        let archive = root.path().join("archive.zip");
        std::fs::write(&archive, bytes).unwrap();
        std::fs::create_dir(root.path().join("parent")).unwrap();
        let dest = root.path().join("parent").join("dest");
        Scene {
            root,
            archive,
            dest,
        }
    }

    /// Extracts the archive into `dest` with `unzipper`, and checks that the streaming
    /// path gives the same verdict: it reads the same bytes as a plain `Read` (no
    /// `Seek`) into a directory of its own, and must refuse where the seekable path
    /// refuses (leaving nothing) and write the same tree, modes included, where it
    /// accepts. Every test of the suite that extracts goes through here, so the whole
    /// suite checks that both paths agree.
    pub(crate) fn unzip(&self, unzipper: &Unzipper) -> Result<inflight::Extracted, UnzipError> {
        let seekable = self.unzip_seekable(unzipper);
        self.assert_streaming_agrees(unzipper, &seekable);
        seekable
    }

    /// The seekable path alone: for the tests that count or stop an extraction's
    /// progress reports, which a second extraction would disturb.
    pub(crate) fn unzip_seekable(
        &self,
        unzipper: &Unzipper,
    ) -> Result<inflight::Extracted, UnzipError> {
        unzipper.unzip(&self.archive, &self.dest)
    }

    fn assert_streaming_agrees(
        &self,
        unzipper: &Unzipper,
        seekable: &Result<inflight::Extracted, UnzipError>,
    ) {
        // Under Wine every file and directory costs a hundred times what it costs on
        // Linux: the large archives of a few tests (70,000 entries; 200,000
        // directories before a limit refuses) are compared on Linux only.
        if cfg!(windows) && self.archive.metadata().is_ok_and(|m| m.len() > 512 << 10) {
            return;
        }
        // A verdict on the destination, not on the archive: nothing to compare.
        if matches!(
            seekable,
            Err(UnzipError::DestinationExists { .. } | UnzipError::InvalidDestination { .. })
        ) {
            return;
        }
        let other = tempfile::tempdir_in(self.root.path()).unwrap();
        let dest = other.path().join("dest");
        let stream = std::fs::File::open(&self.archive).unwrap();
        let streamed = unzipper.unzip_reader(stream, &dest);
        match (seekable, &streamed) {
            (Ok(_), Ok(_)) => {
                let (ours, theirs) = (found(&self.dest), found(&dest));
                assert!(ours == theirs, "the streaming path wrote another tree");
                for path in theirs.keys() {
                    assert_eq!(
                        mode(&self.dest.join(path)),
                        mode(&dest.join(path)),
                        "the streaming path gave {path} another mode"
                    );
                }
            }
            (Err(_), Err(_)) => {
                assert_eq!(
                    listing(other.path()),
                    Vec::<String>::new(),
                    "a refused stream left something"
                );
            }
            // The one documented difference of the `libdeflate` feature
            // (src/unzip/decode/whole.rs): reserved deflate symbols, which libdeflate
            // decodes in memory and zlib refuses. A stream always inflates with zlib.
            (Ok(_), Err(UnzipError::CorruptData { .. })) if cfg!(feature = "libdeflate") => {
                assert_eq!(listing(other.path()), Vec::<String>::new());
            }
            _ => panic!(
                "the seekable and the streaming path disagree:\n  seekable:  {seekable:?}\n  streaming: {streamed:?}"
            ),
        }
    }

    /// Asserts the failure left nothing: no `dest`, no staging directory (only the
    /// empty lock files of staging slots), nothing next to the archive.
    pub(crate) fn assert_untouched(&self) {
        assert!(!self.dest.exists(), "dest exists after a failure");
        assert_eq!(
            beside(&self.root.path().join("parent")),
            Vec::<String>::new(),
            "parent not empty"
        );
        assert_eq!(
            listing(self.root.path()),
            ["archive.zip", "parent"],
            "something escaped the parent"
        );
    }
}

/// What is in `dir` besides the empty lock files of staging slots
/// (`.<name>.staging-<k>.lock`), which stay in place by design.
pub(crate) fn beside(dir: &Path) -> Vec<String> {
    listing(dir)
        .into_iter()
        .filter(|name| {
            let lock =
                name.starts_with('.') && name.contains(".staging-") && name.ends_with(".lock");
            !(lock && std::fs::metadata(dir.join(name)).unwrap().len() == 0)
        })
        .collect()
}

pub(crate) use crate::common::{found, listing, mode};

/// Extracts `bytes` with `limits`, asserts it failed without leaving anything behind,
/// and returns the error.
///
/// Every rejection is checked on both decoding paths: the archive is extracted once
/// with the default in-memory limit (with the `libdeflate` feature, entries as small
/// as these tests' are inflated in memory in one call) and once with none (every
/// entry streams), and both must fail with the same error.
pub(crate) fn reject_with(bytes: &[u8], limits: Limits) -> UnzipError {
    let (error, in_memory) = reject_by(bytes, &Unzipper::new().limits(limits));
    let (_, streaming) = reject_by(bytes, &Unzipper::new().limits(limits).in_memory_limit(0));
    assert_eq!(
        in_memory, streaming,
        "the in-memory and the streaming path disagree"
    );
    error
}

/// The error of `unzipper` on `bytes`, and its `Debug` text with the scene's
/// temporary root replaced, to compare errors across scenes.
fn reject_by(bytes: &[u8], unzipper: &Unzipper) -> (UnzipError, String) {
    let scene = Scene::new(bytes);
    let result = scene.unzip(unzipper);
    scene.assert_untouched();
    match result {
        Err(error) => {
            // `Debug` escapes the path's characters (Windows' backslashes are
            // doubled), so replace the root as `Debug` writes it.
            let root = format!("{:?}", scene.root.path().to_string_lossy());
            let root = &root[1..root.len() - 1];
            let text = format!("{error:?}").replace(root, "<root>");
            (error, text)
        }
        Ok(done) => panic!("extracted {done:?} instead of failing"),
    }
}

/// [`reject_with`] and default limits.
pub(crate) fn reject(bytes: &[u8]) -> UnzipError {
    reject_with(bytes, Limits::default())
}

/// Asserts an expression matches a pattern, printing the value otherwise.
#[macro_export]
macro_rules! assert_matches {
    ($value:expr, $pattern:pat $(if $guard:expr)?) => {
        match $value {
            $pattern $(if $guard)? => {}
            other => panic!("expected {}, got {other:?}", stringify!($pattern)),
        }
    };
}
