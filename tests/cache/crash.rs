//! Crashes: an extraction killed half-way (`kill -9`) leaves its staging directory
//! behind; the next extraction of the same destination or id removes it, and never
//! touches the staging directory of an extraction that is still alive.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Barrier, mpsc};
use std::time::{Duration, Instant};

use inflight::{UnzipCache, UnzipError, Unzipper};

use super::common::{read_tree, secs, within};
use super::{archive, contents, leftovers};

const FILES: usize = 300;
const CHILD_MODE: &str = "INFLIGHT_TEST_CRASH_MODE";
const CHILD_ARCHIVE: &str = "INFLIGHT_TEST_CRASH_ARCHIVE";
const CHILD_TARGET: &str = "INFLIGHT_TEST_CRASH_TARGET";
const CHILD_MARKER: &str = "INFLIGHT_TEST_CRASH_MARKER";

/// An unzipper that, once `after` files are written, creates `marker` and then
/// blocks forever in its progress callback: the extraction is stuck half-way, with
/// files in its staging directory, until the process is killed.
fn stalling_unzipper(marker: PathBuf, after: usize) -> Unzipper {
    Unzipper::new().progress(move |p| {
        if p.files_done >= after {
            let _ = std::fs::write(&marker, b"");
            loop {
                std::thread::sleep(Duration::from_secs(1));
            }
        }
    })
}

/// Not a test of its own: the process that `kill_half_way` starts and kills. Without
/// the environment the parent sets it does nothing, so `--include-ignored` passes.
#[test]
#[ignore = "helper process, run and killed by the crash tests"]
fn crash_child() {
    let Some(mode) = std::env::var_os(CHILD_MODE) else {
        return;
    };
    let var = |name| PathBuf::from(std::env::var_os(name).expect("set by the parent test"));
    let (archive, target, marker) = (var(CHILD_ARCHIVE), var(CHILD_TARGET), var(CHILD_MARKER));
    let unzipper = stalling_unzipper(marker, FILES / 3);
    if mode == "unzip" {
        let _ = unzipper.unzip(&archive, &target);
    } else {
        let root = target.parent().expect("root/id");
        let id = target.file_name().and_then(|n| n.to_str()).expect("an id");
        let _ = UnzipCache::with_unzipper(root, unzipper).unzip(&archive, id);
    }
    unreachable!("the extraction stalls until the parent kills this process");
}

/// Runs `crash_child` in `mode` on `archive` -> `target`, waits until it is half-way,
/// and kills it with SIGKILL.
fn kill_half_way(mode: &str, archive: &Path, target: &Path) {
    let marker = target.with_extension("half-way");
    let mut child: Child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "crash::crash_child",
            "--test-threads=1",
        ])
        .env(CHILD_MODE, mode)
        .env(CHILD_ARCHIVE, archive)
        .env(CHILD_TARGET, target)
        .env(CHILD_MARKER, &marker)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !marker.exists() {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the child ended before it was killed: {status}");
        }
        assert!(Instant::now() < deadline, "the child never got half-way");
        std::thread::sleep(Duration::from_millis(5));
    }
    // SIGKILL on Unix, TerminateProcess on Windows: no destructor, no cleanup runs.
    child.kill().unwrap();
    child.wait().unwrap();
    std::fs::remove_file(&marker).unwrap();
}

/// Hidden names in `dir` that are directories: staging directories.
fn staging_dirs(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().unwrap().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with('.'))
        .collect();
    names.sort();
    names
}

#[test]
fn an_unzip_killed_half_way_is_cleaned_up_by_the_next_unzip_of_the_same_dest() {
    let dir = tempfile::tempdir().unwrap();
    let wheel = archive(dir.path(), "w.whl", 5, FILES);
    let parent = dir.path().join("site-packages");
    std::fs::create_dir(&parent).unwrap();
    let dest = parent.join("pkg");
    within(
        secs(120),
        "an_unzip_killed_half_way_is_cleaned_up_by_the_next_unzip_of_the_same_dest",
        {
            let (wheel, dest, parent) = (wheel.clone(), dest.clone(), parent.clone());
            move || {
                kill_half_way("unzip", &wheel, &dest);
                // The crash left a staging directory with files in it.
                let left = staging_dirs(&parent);
                assert_eq!(left.len(), 1, "{left:?}");
                assert!(std::fs::read_dir(parent.join(&left[0])).unwrap().count() > 0);
                assert!(!dest.exists());

                Unzipper::new().unzip(&wheel, &dest).unwrap();
            }
        },
    );
    assert_eq!(read_tree(&dest), contents(5, FILES));
    assert!(
        staging_dirs(&parent).is_empty(),
        "{:?}",
        staging_dirs(&parent)
    );
    assert!(leftovers(&parent).is_empty(), "{:?}", leftovers(&parent));
}

#[test]
fn a_cache_extraction_killed_half_way_is_cleaned_up_by_the_next_request_for_the_id() {
    let dir = tempfile::tempdir().unwrap();
    let wheel = archive(dir.path(), "w.whl", 6, FILES);
    let root = dir.path().join("cache");
    within(
        secs(120),
        "a_cache_extraction_killed_half_way_is_cleaned_up_by_the_next_request_for_the_id",
        {
            let (wheel, root) = (wheel.clone(), root.clone());
            move || {
                kill_half_way("cache", &wheel, &root.join("pkg-1.0"));
                assert_eq!(staging_dirs(&root).len(), 1, "{:?}", staging_dirs(&root));
                // A new process (here: a new cache) asks for the same id.
                let cache = UnzipCache::new(&root);
                assert_eq!(
                    cache.unzip(&wheel, "pkg-1.0").unwrap(),
                    root.join("pkg-1.0")
                );
                assert_eq!(cache.stats().extractions, 1);
            }
        },
    );
    assert_eq!(read_tree(&root.join("pkg-1.0")), contents(6, FILES));
    assert!(staging_dirs(&root).is_empty(), "{:?}", staging_dirs(&root));
    assert!(leftovers(&root).is_empty(), "{:?}", leftovers(&root));
}

#[test]
fn a_live_extraction_s_staging_directory_is_never_touched_by_another() {
    let dir = tempfile::tempdir().unwrap();
    let wheel = archive(dir.path(), "w.whl", 8, 60);
    let parent = dir.path().join("out");
    std::fs::create_dir(&parent).unwrap();
    let dest = parent.join("pkg");
    within(
        secs(120),
        "a_live_extraction_s_staging_directory_is_never_touched_by_another",
        move || {
            // The first extraction stops after 20 files and waits, holding its slot.
            let (paused_tx, paused_rx) = mpsc::channel::<()>();
            let resume = Arc::new(Barrier::new(2));
            let first = {
                let resume = Arc::clone(&resume);
                let paused_tx = std::sync::Mutex::new(paused_tx);
                Unzipper::new().progress(move |p| {
                    if p.files_done == 20 {
                        paused_tx.lock().unwrap().send(()).unwrap();
                        resume.wait();
                    }
                })
            };
            let handle = {
                let (wheel, dest) = (wheel.clone(), dest.clone());
                std::thread::spawn(move || first.unzip(&wheel, &dest))
            };
            paused_rx.recv().unwrap();
            let live = staging_dirs(&parent);
            assert_eq!(live.len(), 1);
            let expected = contents(8, 60);
            // The files of the live staging directory that are complete at this point
            // (its helpers may still be writing others).
            let complete = |tree: &std::collections::BTreeMap<String, Vec<u8>>| -> Vec<String> {
                tree.iter()
                    .filter(|(name, data)| expected.get(*name) == Some(*data))
                    .map(|(name, _)| name.clone())
                    .collect()
            };
            let before = complete(&read_tree(&parent.join(&live[0])));
            assert!(before.len() >= 20, "{} complete files", before.len());

            // A second extraction of the same dest runs to the end meanwhile...
            Unzipper::new().unzip(&wheel, &dest).unwrap();
            assert!(
                read_tree(&dest) == expected,
                "dest differs from the archive"
            );
            // ...and left the live one's staging directory alone: every file that was
            // complete is still there and still complete.
            assert_eq!(staging_dirs(&parent), live);
            let after = complete(&read_tree(&parent.join(&live[0])));
            let lost: Vec<&String> = before.iter().filter(|n| !after.contains(n)).collect();
            assert!(lost.is_empty(), "files lost or changed: {lost:?}");

            resume.wait();
            let result = handle.join().unwrap();
            assert!(
                matches!(result, Err(UnzipError::DestinationExists { .. })),
                "{result:?}"
            );
            assert!(staging_dirs(&parent).is_empty());
        },
    );
}

#[test]
fn durable_mode_extracts_the_same_tree_through_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    let wheel = archive(dir.path(), "w.whl", 9, 40);
    let unzipper = Unzipper::new().durable(true);
    assert!(format!("{unzipper:?}").contains("durable: true"));
    let cache = UnzipCache::with_unzipper(dir.path().join("cache"), unzipper);
    let path = cache.unzip(&wheel, "pkg").unwrap();
    assert_eq!(read_tree(&path), contents(9, 40));
    assert!(leftovers(cache.root()).is_empty());
}
