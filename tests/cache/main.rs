//! `UnzipCache`: one extraction per id across threads and processes.

#![cfg(not(loom))]

#[path = "../common/mod.rs"]
mod common;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};

use inflight::{CacheError, UnzipCache, Unzipper};
use zip::write::SimpleFileOptions;

use common::{read_tree, secs, within};

mod crash;
mod disk_cache;
mod ids;
mod links;
mod litter;
mod main_job;
mod odd_archives;
mod processes;
mod rayon_callers;
mod streams;

/// A small wheel-like archive: `n` files under `pkg/`, contents derived from `seed`.
fn archive(dir: &Path, name: &str, seed: u8, n: usize) -> PathBuf {
    let path = dir.join(name);
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
    for (name, data) in contents(seed, n) {
        zip.start_file(name, SimpleFileOptions::default()).unwrap();
        zip.write_all(&data).unwrap();
    }
    zip.finish().unwrap();
    path
}

fn contents(seed: u8, n: usize) -> BTreeMap<String, Vec<u8>> {
    (0..n)
        .map(|i| {
            let name = format!("pkg/sub{}/file{i}.py", i % 3);
            let data = (0..(200 + i * 13))
                .map(|b| (b as u8).wrapping_mul(seed) ^ i as u8)
                .collect();
            (name, data)
        })
        .collect()
}

/// Names in the cache root that are not ids: staging entries and lock files left
/// behind (the cache removes both once a request is over).
fn leftovers(root: &Path) -> Vec<String> {
    std::fs::read_dir(root)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with('.'))
        .collect()
}

fn not_a_zip(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, b"this is not a zip archive at all").unwrap();
    path
}

#[test]
fn many_threads_asking_for_one_archive_cause_one_extraction() {
    let dir = tempfile::tempdir().unwrap();
    let wheel = archive(dir.path(), "a.whl", 3, 40);
    let starts = Arc::new(AtomicUsize::new(0));
    let unzipper = {
        let starts = Arc::clone(&starts);
        Unzipper::new().progress(move |p| {
            if p.files_done == 0 {
                starts.fetch_add(1, Ordering::Relaxed);
            }
        })
    };
    let cache = Arc::new(UnzipCache::with_unzipper(
        dir.path().join("cache"),
        unzipper,
    ));
    let threads = 8;
    let barrier = Arc::new(Barrier::new(threads));
    let paths = within(
        secs(60),
        "many_threads_asking_for_one_archive_cause_one_extraction",
        {
            let cache = Arc::clone(&cache);
            move || {
                let handles: Vec<_> = (0..threads)
                    .map(|_| {
                        let (cache, barrier, wheel) =
                            (Arc::clone(&cache), Arc::clone(&barrier), wheel.clone());
                        std::thread::spawn(move || {
                            barrier.wait();
                            cache.unzip(&wheel, "a-1.0").unwrap()
                        })
                    })
                    .collect();
                handles
                    .into_iter()
                    .map(|h| h.join().unwrap())
                    .collect::<Vec<_>>()
            }
        },
    );
    assert_eq!(starts.load(Ordering::Relaxed), 1, "extractions started");
    assert_eq!(cache.stats().extractions, 1);
    assert!(paths.iter().all(|p| *p == dir.path().join("cache/a-1.0")));
    assert_eq!(read_tree(&paths[0]), contents(3, 40));
    assert!(leftovers(cache.root()).is_empty());
}

#[test]
fn mixed_ids_under_many_threads_extract_good_ids_once_and_share_errors() {
    let dir = tempfile::tempdir().unwrap();
    let good: Vec<(String, PathBuf)> = (0..6)
        .map(|i| {
            (
                format!("good{i}"),
                archive(dir.path(), &format!("good{i}.whl"), i as u8 + 1, 10 + i),
            )
        })
        .collect();
    let bad: Vec<(String, PathBuf)> = (0..2)
        .map(|i| {
            (
                format!("bad{i}"),
                not_a_zip(dir.path(), &format!("bad{i}.whl")),
            )
        })
        .collect();
    let all: Vec<(String, PathBuf)> = good.iter().chain(&bad).cloned().collect();
    let cache = Arc::new(UnzipCache::new(dir.path().join("cache")));
    let threads = 8;
    let barrier = Arc::new(Barrier::new(threads));
    let results = within(
        secs(120),
        "mixed_ids_under_many_threads_extract_good_ids_once_and_share_errors",
        {
            let (cache, all) = (Arc::clone(&cache), all.clone());
            move || {
                let handles: Vec<_> = (0..threads)
                    .map(|t| {
                        let (cache, barrier, mut order) =
                            (Arc::clone(&cache), Arc::clone(&barrier), all.clone());
                        order.rotate_left(t % all.len());
                        std::thread::spawn(move || {
                            barrier.wait();
                            let mut results = Vec::new();
                            for _ in 0..3 {
                                for (id, path) in &order {
                                    results.push((id.clone(), cache.unzip(path, id)));
                                }
                            }
                            results
                        })
                    })
                    .collect();
                handles
                    .into_iter()
                    .flat_map(|h| h.join().unwrap())
                    .collect::<Vec<_>>()
            }
        },
    );
    for (id, result) in &results {
        if id.starts_with("good") {
            assert_eq!(result.as_ref().unwrap(), &cache.root().join(id));
        } else {
            assert!(
                matches!(result, Err(CacheError::Unzip(_))),
                "{id}: {result:?}"
            );
        }
    }
    let stats = cache.stats();
    let bad_requests = results
        .iter()
        .filter(|(id, _)| id.starts_with("bad"))
        .count() as u64;
    // Good ids once each; bad ids at least once each and never more than requested.
    assert!(
        stats.extractions >= 6 + 2 && stats.extractions <= 6 + bad_requests,
        "{stats:?}"
    );
    assert_eq!(stats.failures, stats.extractions - 6, "{stats:?}");
    for (id, i) in good.iter().map(|(id, _)| id).zip(0..) {
        assert_eq!(
            read_tree(&cache.root().join(id)),
            contents(i as u8 + 1, 10 + i)
        );
    }
    // Failures are not memoized: the next call extracts again.
    let before = cache.stats().extractions;
    assert!(cache.unzip(&bad[0].1, &bad[0].0).is_err());
    assert_eq!(cache.stats().extractions, before + 1);
    assert!(!cache.root().join("bad0").exists());
    assert!(leftovers(cache.root()).is_empty());
}

#[test]
fn a_failed_extraction_is_retried_and_can_then_succeed() {
    let dir = tempfile::tempdir().unwrap();
    let path = not_a_zip(dir.path(), "late.whl");
    let cache = UnzipCache::new(dir.path().join("cache"));
    assert!(matches!(
        cache.unzip(&path, "late"),
        Err(CacheError::Unzip(_))
    ));
    // The archive is fixed (say, a download finished): the next call extracts it.
    std::fs::remove_file(&path).unwrap();
    archive(dir.path(), "late.whl", 9, 5);
    assert_eq!(
        cache.unzip(&path, "late").unwrap(),
        cache.root().join("late")
    );
    assert_eq!(cache.stats().extractions, 2);
}

#[test]
fn an_id_already_complete_on_disk_is_returned_without_extracting() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("cache");
    std::fs::create_dir_all(root.join("done-1.0")).unwrap();
    let cache = UnzipCache::new(&root);
    // The archive does not even exist: nothing is read.
    let path = cache
        .unzip(dir.path().join("missing.whl"), "done-1.0")
        .unwrap();
    assert_eq!(path, root.join("done-1.0"));
    let stats = cache.stats();
    assert_eq!((stats.extractions, stats.found_on_disk), (0, 1));
}

#[test]
fn forget_makes_the_cache_look_at_the_disk_again() {
    let dir = tempfile::tempdir().unwrap();
    let wheel = archive(dir.path(), "a.whl", 2, 3);
    let cache = UnzipCache::new(dir.path().join("cache"));
    let path = cache.unzip(&wheel, "a").unwrap();
    std::fs::remove_dir_all(&path).unwrap();
    assert_eq!(cache.forget("a"), Some(path.clone()));
    assert_eq!(cache.unzip(&wheel, "a").unwrap(), path);
    assert_eq!(cache.stats().extractions, 2);
    assert_eq!(read_tree(&path), contents(2, 3));
}

const CHILD_ROOT: &str = "INFLIGHT_TEST_CACHE_ROOT";
const CHILD_ARCHIVES: &str = "INFLIGHT_TEST_ARCHIVES";

/// Not a test of its own: the body of one of the two processes of
/// `two_processes_racing_on_one_root_both_succeed_with_complete_directories`, which
/// runs this test binary twice with `--ignored --exact` and the environment set.
/// Without that environment it does nothing, so `--include-ignored` passes.
#[test]
#[ignore = "helper process, run by two_processes_racing_on_one_root_both_succeed_with_complete_directories"]
fn cache_worker_process() {
    let Some(root) = std::env::var_os(CHILD_ROOT).map(PathBuf::from) else {
        return;
    };
    let archives: Vec<PathBuf> = std::env::var(CHILD_ARCHIVES)
        .expect("run by the parent test")
        .split('\n')
        .map(PathBuf::from)
        .collect();
    let cache = UnzipCache::new(root);
    std::thread::scope(|s| {
        for t in 0..4 {
            let (cache, archives) = (&cache, &archives);
            s.spawn(move || {
                for k in 0..archives.len() {
                    let path = &archives[(k + t) % archives.len()];
                    let id = path.file_stem().unwrap().to_str().unwrap();
                    cache.unzip(path, id).unwrap();
                }
            });
        }
    });
}

#[test]
fn two_processes_racing_on_one_root_both_succeed_with_complete_directories() {
    let dir = tempfile::tempdir().unwrap();
    let archives: Vec<PathBuf> = (0..6)
        .map(|i| archive(dir.path(), &format!("w{i}.whl"), i + 1, 30 + i as usize))
        .collect();
    let root = dir.path().join("cache");
    let list = archives
        .iter()
        .map(|p| p.to_str().unwrap())
        .collect::<Vec<_>>()
        .join("\n");
    let exe = std::env::current_exe().unwrap();
    let statuses = within(
        secs(120),
        "two_processes_racing_on_one_root_both_succeed_with_complete_directories",
        move || {
            // Both started before either is waited for, so they run at the same time.
            let children: Vec<_> = (0..2)
                .map(|_| {
                    std::process::Command::new(&exe)
                        .args([
                            "--ignored",
                            "--exact",
                            "cache_worker_process",
                            "--test-threads=1",
                        ])
                        .env(CHILD_ROOT, &root)
                        .env(CHILD_ARCHIVES, &list)
                        .stdout(std::process::Stdio::piped())
                        .stderr(std::process::Stdio::piped())
                        .spawn()
                        .unwrap()
                })
                .collect();
            children
                .into_iter()
                .map(|child| child.wait_with_output().unwrap())
                .collect::<Vec<_>>()
        },
    );
    for output in &statuses {
        assert!(
            output.status.success(),
            "child failed:\n{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(
            String::from_utf8_lossy(&output.stdout).contains("1 passed"),
            "the child ran its body"
        );
    }
    let root = dir.path().join("cache");
    for i in 0..6u8 {
        assert_eq!(
            read_tree(&root.join(format!("w{i}"))),
            contents(i + 1, 30 + i as usize)
        );
    }
    assert!(leftovers(&root).is_empty(), "{:?}", leftovers(&root));
}

#[test]
fn a_progress_callback_asking_for_its_own_id_on_the_owner_thread_gets_would_deadlock() {
    use std::sync::{Mutex, OnceLock, Weak};

    let dir = tempfile::tempdir().unwrap();
    let wheel = archive(dir.path(), "a.whl", 4, 6);
    let cache_slot: Arc<OnceLock<Weak<UnzipCache>>> = Arc::new(OnceLock::new());
    let inner = Arc::new(Mutex::new(None));
    let unzipper = {
        let (cache_slot, inner, wheel) =
            (Arc::clone(&cache_slot), Arc::clone(&inner), wheel.clone());
        // The first report runs on the thread that owns the extraction, before any
        // helper starts: asking for the same id there would wait for itself.
        Unzipper::new().progress(move |p| {
            if p.files_done == 0 {
                let cache = cache_slot.get().and_then(Weak::upgrade).unwrap();
                *inner.lock().unwrap() = Some(cache.unzip(&wheel, "a"));
            }
        })
    };
    let cache = Arc::new(UnzipCache::with_unzipper(
        dir.path().join("cache"),
        unzipper,
    ));
    cache_slot.set(Arc::downgrade(&cache)).unwrap();
    let path = within(secs(60), "re-entrant request", {
        let (cache, wheel) = (Arc::clone(&cache), wheel.clone());
        move || cache.unzip(&wheel, "a")
    })
    .unwrap();
    assert_eq!(read_tree(&path), contents(4, 6));
    let inner = inner.lock().unwrap().take().unwrap();
    assert!(
        matches!(
            inner,
            Err(CacheError::Wait(inflight::WaitError::WouldDeadlock))
        ),
        "{inner:?}"
    );
}
