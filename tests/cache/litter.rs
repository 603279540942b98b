//! Nothing left behind: after any `Unzipper::unzip` the parent of `dest` holds `dest`
//! or nothing more than before, and once no request runs a cache root holds only
//! complete entries, whatever failed, raced or ran out of file descriptors.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Barrier};

use inflight::{UnzipCache, Unzipper};

use super::common::{listing, secs, within};
use super::{archive, leftovers, not_a_zip};

#[test]
fn an_unzip_leaves_its_parent_holding_dest_or_nothing_more() {
    let dir = tempfile::tempdir().unwrap();
    let good = archive(dir.path(), "good.whl", 1, 20);
    let bad = not_a_zip(dir.path(), "bad.whl");
    let parent = dir.path().join("parent");
    std::fs::create_dir(&parent).unwrap();
    std::fs::write(parent.join("already-here"), b"").unwrap();

    Unzipper::new().unzip(&good, parent.join("ok")).unwrap();
    assert_eq!(listing(&parent), ["already-here", "ok"]);
    Unzipper::new()
        .unzip(&bad, parent.join("refused"))
        .unwrap_err();
    assert_eq!(listing(&parent), ["already-here", "ok"]);
    // An error found while writing (a CRC that does not match), after the staging
    // directory and its lock were made.
    let mut bytes = std::fs::read(&good).unwrap();
    let at = find(&bytes, b"pkg/sub0/file0.py").unwrap() + b"pkg/sub0/file0.py".len();
    bytes[at] ^= 0xFF; // the first byte of its data
    let corrupt = dir.path().join("corrupt.whl");
    std::fs::write(&corrupt, &bytes).unwrap();
    Unzipper::new()
        .unzip(&corrupt, parent.join("corrupt"))
        .unwrap_err();
    assert_eq!(listing(&parent), ["already-here", "ok"]);
    // An existing destination.
    Unzipper::new().unzip(&good, parent.join("ok")).unwrap_err();
    assert_eq!(listing(&parent), ["already-here", "ok"]);
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[test]
fn racing_unzips_of_one_dest_leave_only_dest() {
    let dir = tempfile::tempdir().unwrap();
    let good = archive(dir.path(), "good.whl", 2, 40);
    let parent = dir.path().join("parent");
    std::fs::create_dir(&parent).unwrap();
    let threads = 6;
    let start = Arc::new(Barrier::new(threads));
    let results = within(secs(60), "racing unzips", {
        let (good, parent) = (good.clone(), parent.clone());
        move || {
            let handles: Vec<_> = (0..threads)
                .map(|_| {
                    let (good, parent, start) = (good.clone(), parent.clone(), Arc::clone(&start));
                    std::thread::spawn(move || {
                        start.wait();
                        Unzipper::new().unzip(&good, parent.join("dest")).is_ok()
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap())
                .collect::<Vec<_>>()
        }
    });
    assert!(results.contains(&true));
    assert_eq!(listing(&parent), ["dest"]);
}

#[test]
fn a_cache_root_holds_only_complete_entries_once_requests_are_over() {
    let dir = tempfile::tempdir().unwrap();
    let good = archive(dir.path(), "good.whl", 3, 20);
    let bad = not_a_zip(dir.path(), "bad.whl");
    let cache = Arc::new(UnzipCache::new(dir.path().join("cache")));
    let threads = 8;
    let start = Arc::new(Barrier::new(threads));
    within(secs(60), "mixed requests", {
        let cache = Arc::clone(&cache);
        move || {
            let handles: Vec<_> = (0..threads)
                .map(|t| {
                    let (cache, start, good, bad) = (
                        Arc::clone(&cache),
                        Arc::clone(&start),
                        good.clone(),
                        bad.clone(),
                    );
                    std::thread::spawn(move || {
                        start.wait();
                        for round in 0..5 {
                            let id = format!("id-{}", (t + round) % 4);
                            let archive = if id == "id-3" { &bad } else { &good };
                            let _ = cache.unzip(archive, &id);
                        }
                    })
                })
                .collect();
            for handle in handles {
                handle.join().unwrap();
            }
        }
    });
    assert_eq!(listing(cache.root()), ["id-0", "id-1", "id-2"]);
    assert!(leftovers(cache.root()).is_empty());
}

const CHILD_PARENT: &str = "INFLIGHT_TEST_FD_PARENT";
const CHILD_ARCHIVE: &str = "INFLIGHT_TEST_FD_ARCHIVE";

/// Not a test of its own: the process `no_staging_directory_stays_after_too_many_open_files`
/// starts with a small descriptor limit. Without its environment it does nothing.
#[test]
#[ignore = "helper process, run by no_staging_directory_stays_after_too_many_open_files"]
fn fd_starved_child() {
    let (Some(parent), Some(archive)) = (
        std::env::var_os(CHILD_PARENT),
        std::env::var_os(CHILD_ARCHIVE),
    ) else {
        return;
    };
    let (parent, archive) = (PathBuf::from(parent), PathBuf::from(archive));
    let threads = 12;
    let start = Arc::new(Barrier::new(threads));
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let (parent, archive, start) = (parent.clone(), archive.clone(), Arc::clone(&start));
            std::thread::spawn(move || {
                start.wait();
                let mut failures = 0;
                for round in 0..4 {
                    let dest = parent.join(format!("dest-{t}-{round}"));
                    if Unzipper::new().unzip(&archive, &dest).is_err() {
                        failures += 1;
                    }
                    let cache = UnzipCache::new(parent.join("cache"));
                    if cache.unzip(&archive, &format!("id-{t}-{round}")).is_err() {
                        failures += 1;
                    }
                }
                failures
            })
        })
        .collect();
    let failures: usize = handles.into_iter().map(|h| h.join().unwrap()).sum();
    println!("failures: {failures}");
}

#[test]
#[cfg_attr(
    not(unix),
    ignore = "the descriptor limit is set with the shell's ulimit"
)]
fn no_staging_directory_stays_after_too_many_open_files() {
    let dir = tempfile::tempdir().unwrap();
    let archive = archive(dir.path(), "w.whl", 4, 200);
    let parent = dir.path().join("parent");
    std::fs::create_dir(&parent).unwrap();
    let output = within(secs(120), "a child out of descriptors", {
        let (archive, parent) = (archive.clone(), parent.clone());
        move || {
            Command::new("sh")
                .arg("-c")
                .arg("ulimit -n 48 && exec \"$@\"")
                .arg("sh")
                .arg(std::env::current_exe().unwrap())
                .args([
                    "--ignored",
                    "--exact",
                    "litter::fd_starved_child",
                    "--nocapture",
                ])
                .env(CHILD_PARENT, &parent)
                .env(CHILD_ARCHIVE, &archive)
                .output()
                .unwrap()
        }
    });
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // The limit must have bitten, or this test proves nothing.
    let failures: usize = stdout
        .lines()
        .find_map(|l| l.strip_prefix("failures: "))
        .and_then(|n| n.trim().parse().ok())
        .expect("the child reports its failures");
    assert!(
        failures > 0,
        "no request ran out of descriptors: raise the pressure"
    );
    assert!(leftovers(&parent).is_empty(), "{:?}", leftovers(&parent));
    let cache: &Path = &parent.join("cache");
    if cache.exists() {
        assert!(leftovers(cache).is_empty(), "{:?}", leftovers(cache));
    }
}
