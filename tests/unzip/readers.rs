//! The mainstream readers the unzipper must agree with, run on the host: CPython's
//! `zipfile` (what pip uses), Info-ZIP `unzip` and libarchive's `bsdtar`. Each
//! extracts into a directory of its own inside a temporary directory, and what it
//! wrote is read back with links recorded as links ([`Found`]), never followed.
//!
//! A reader that is not installed is skipped with a printed line, unless
//! `INFLIGHT_REQUIRE_READERS=1` is set (CI sets it, and `INFLIGHT_REQUIRE_PYTHON=1`
//! for python3 alone), in which case the test fails. Under Wine the readers are host
//! programs a Windows binary cannot start: `.ci/wine/run-tests` unsets both, and the
//! comparisons skip themselves there.
//!
//! How each is run: `python3 -c 'ZipFile(a).extractall(out)'`; `unzip -o -q a -d
//! out` (exit code 1 is a warning: the files were extracted); `bsdtar -xf a -C out`.
//! Info-ZIP and bsdtar run with `LC_ALL=C.UTF-8`, so UTF-8 names are written as they
//! are rather than escaped for an ASCII locale.

use std::collections::BTreeMap;
use std::path::Path;

use inflight::{Extracted, Unzipper};
use std::process::{Command, Output};
use std::sync::OnceLock;

pub(crate) use crate::common::Found;
use crate::common::{Tree, found, tree};
use crate::support::Scene;

/// What a reader left under its output directory.
pub(crate) type Listing = BTreeMap<String, Found>;

/// A reader on the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reader {
    CPython,
    InfoZip,
    Libarchive,
}

/// How a reader's run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Status {
    Ok,
    /// Extracted, with a warning (Info-ZIP's exit code 1).
    Warning(String),
    /// Failed (the files it did write are still listed).
    Failed(String),
}

/// One reader's extraction.
#[derive(Debug, Clone)]
pub(crate) struct Extraction {
    pub(crate) status: Status,
    pub(crate) listing: Listing,
}

impl Reader {
    pub(crate) const ALL: [Reader; 3] = [Reader::CPython, Reader::InfoZip, Reader::Libarchive];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Reader::CPython => "CPython zipfile",
            Reader::InfoZip => "Info-ZIP unzip",
            Reader::Libarchive => "libarchive bsdtar",
        }
    }

    /// Whether the reader runs here; panics when it does not and it is required.
    pub(crate) fn available(self) -> bool {
        static FOUND: [OnceLock<bool>; 3] = [OnceLock::new(), OnceLock::new(), OnceLock::new()];
        let (slot, probe): (usize, &[&str]) = match self {
            Reader::CPython => (0, &["python3", "-c", "import zipfile"]),
            Reader::InfoZip => (1, &["unzip", "-v"]),
            Reader::Libarchive => (2, &["bsdtar", "--version"]),
        };
        let found = *FOUND[slot].get_or_init(|| {
            let ok = Command::new(probe[0])
                .args(&probe[1..])
                .output()
                .is_ok_and(|out| out.status.success());
            if !ok {
                eprintln!(
                    "skipped: {} not found, its comparisons not run",
                    self.name()
                );
            }
            ok
        });
        let required = |var: &str| std::env::var(var).is_ok_and(|v| v == "1");
        let must = required("INFLIGHT_REQUIRE_READERS")
            || (self == Reader::CPython && required("INFLIGHT_REQUIRE_PYTHON"));
        assert!(
            found || !must,
            "{} is required (INFLIGHT_REQUIRE_READERS=1) but does not run",
            self.name()
        );
        found
    }

    /// Extracts `archive` into the new directory `out` (which must be inside a
    /// temporary directory); `None` if the reader is not available.
    pub(crate) fn extract(self, archive: &Path, out: &Path) -> Option<Extraction> {
        if !self.available() {
            return None;
        }
        let output = match self {
            Reader::CPython => run(Command::new("python3")
                .arg("-c")
                .arg("import sys, zipfile\nzipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])")
                .arg(archive)
                .arg(out)),
            Reader::InfoZip => run(Command::new("unzip")
                .args(["-o", "-q"])
                .arg(archive)
                .arg("-d")
                .arg(out)
                .env("LC_ALL", "C.UTF-8")),
            Reader::Libarchive => {
                std::fs::create_dir_all(out).unwrap();
                run(Command::new("bsdtar")
                    .arg("-xf")
                    .arg(archive)
                    .arg("-C")
                    .arg(out)
                    .env("LC_ALL", "C.UTF-8"))
            }
        };
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        let status = match output.status.code() {
            Some(0) => Status::Ok,
            Some(1) if self == Reader::InfoZip => Status::Warning(stderr),
            _ => Status::Failed(stderr),
        };
        Some(Extraction {
            status,
            listing: found(out),
        })
    }
}

fn run(command: &mut Command) -> Output {
    command.output().expect("the reader starts")
}

/// Extracts each `(archive, out)` pair with CPython in one `python3` process (a
/// process per archive would cost 20 ms each); returns each one's status, or `None`
/// if python3 is not available.
pub(crate) fn cpython_batch(pairs: &[(&Path, &Path)]) -> Option<Vec<Status>> {
    if !Reader::CPython.available() {
        return None;
    }
    if pairs.is_empty() {
        return Some(Vec::new());
    }
    let script = "import sys, zipfile\n\
                  args = sys.argv[1:]\n\
                  for a, o in zip(args[::2], args[1::2]):\n\
                  \x20   try:\n\
                  \x20       zipfile.ZipFile(a).extractall(o)\n\
                  \x20       print('ok')\n\
                  \x20   except Exception as e:\n\
                  \x20       print('failed: ' + repr(e).replace('\\n', ' '))\n";
    let mut command = Command::new("python3");
    command.arg("-c").arg(script);
    for (archive, out) in pairs {
        command.arg(archive).arg(out);
    }
    let output = run(&mut command);
    assert!(
        output.status.success(),
        "python3 failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let statuses: Vec<Status> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|line| match line {
            "ok" => Status::Ok,
            failed => Status::Failed(failed.to_owned()),
        })
        .collect();
    assert_eq!(statuses.len(), pairs.len(), "one line per archive");
    Some(statuses)
}

/// Extracts `archive` with every available reader, each into `work/<reader>`.
pub(crate) fn extract_all(archive: &Path, work: &Path) -> Vec<(Reader, Extraction)> {
    Reader::ALL
        .iter()
        .filter_map(|&reader| {
            let out = work.join(match reader {
                Reader::CPython => "cpython",
                Reader::InfoZip => "infozip",
                Reader::Libarchive => "libarchive",
            });
            Some((reader, reader.extract(archive, &out)?))
        })
        .collect()
}

/// Whether some reader made something else than directories and regular files, or a
/// tree different from `reference`: a link, a special file, another name, other
/// bytes. Returns the first such reader and what it made.
pub(crate) fn first_difference<'a>(
    reference: &Listing,
    extractions: &'a [(Reader, Extraction)],
) -> Option<(Reader, &'a Extraction)> {
    extractions
        .iter()
        .find(|(_, e)| &e.listing != reference)
        .map(|(r, e)| (*r, e))
}

/// Extracts `bytes` with the `Unzipper` and with every available reader, and asserts
/// that all of them wrote the same tree: same paths, same kinds (no link anywhere),
/// same bytes. Returns what the `Unzipper` reported and its tree.
pub(crate) fn assert_same_as_readers(bytes: &[u8]) -> (Extracted, Tree) {
    let scene = Scene::new(bytes);
    let done = match scene.unzip(&Unzipper::new()) {
        Ok(done) => done,
        Err(error) => panic!("refused an archive the readers read: {error}"),
    };
    let ours = found(&scene.dest);
    let extractions = extract_all(&scene.archive, &scene.root.path().join("readers"));
    if let Some((reader, extraction)) = first_difference(&ours, &extractions) {
        panic!(
            "{} extracted another tree ({:?}):\n  ours:   {ours:?}\n  theirs: {:?}",
            reader.name(),
            extraction.status,
            extraction.listing
        );
    }
    (done, tree(&scene.dest))
}

/// Asserts that the `Unzipper` refuses `bytes` (nothing left behind), and returns the
/// error and what each available reader made of it, for the test to show that some
/// reader extracts something else than CPython does.
pub(crate) fn refused_where_readers_differ(
    bytes: &[u8],
) -> (inflight::UnzipError, Vec<(Reader, Extraction)>) {
    let error = crate::support::reject(bytes);
    let scene = Scene::new(bytes);
    let extractions = extract_all(&scene.archive, &scene.root.path().join("readers"));
    (error, extractions)
}
