//! `DiskCache` in one process: builds of directories and files, shared errors of any
//! type, outcomes, deleted entries and roots, panics, re-entry, what is in flight.

use std::fs::File;
use std::io::{self, Write};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::time::Duration;

use inflight::{CacheEvent, DiskCache, DiskCacheError, FsError, Outcome, Phase, WaitError};

use super::common::{listing, read_tree, secs, within};
use super::leftovers;

fn write(path: &Path, data: &str) -> io::Result<()> {
    std::fs::write(path, data)
}

#[test]
fn threads_asking_for_one_id_cause_one_build_and_share_its_directory() {
    let dir = tempfile::tempdir().unwrap();
    let cache = Arc::new(DiskCache::new(dir.path().join("builds")));
    let builds = Arc::new(AtomicUsize::new(0));
    let threads = 8;
    let start = Arc::new(Barrier::new(threads));
    let outcomes = within(secs(60), "one build for eight threads", {
        let (cache, builds) = (Arc::clone(&cache), Arc::clone(&builds));
        move || {
            let handles: Vec<_> = (0..threads)
                .map(|_| {
                    let (cache, builds, start) =
                        (Arc::clone(&cache), Arc::clone(&builds), Arc::clone(&start));
                    std::thread::spawn(move || {
                        start.wait();
                        cache.resolve("pkg-1.0", |staging: &Path| {
                            builds.fetch_add(1, Ordering::SeqCst);
                            std::thread::sleep(Duration::from_millis(50));
                            std::fs::create_dir(staging.join("lib"))?;
                            write(&staging.join("lib/mod.py"), "x = 1\n")
                        })
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap())
                .collect::<Vec<_>>()
        }
    });
    assert_eq!(builds.load(Ordering::SeqCst), 1);
    let path = dir.path().join("builds/pkg-1.0");
    for resolution in &outcomes {
        assert_eq!(resolution.result.as_ref().unwrap(), &path);
    }
    let built = outcomes
        .iter()
        .filter(|r| r.outcome == Outcome::Built)
        .count();
    assert_eq!(built, 1);
    assert!(outcomes.iter().all(|r| matches!(
        r.outcome,
        Outcome::Built | Outcome::WaitedForThread | Outcome::Remembered
    )));
    assert_eq!(read_tree(&path)["lib/mod.py"], b"x = 1\n");
    let stats = cache.stats();
    assert_eq!((stats.requests, stats.built, stats.failed), (8, 1, 0));
    assert_eq!(listing(cache.root()), ["pkg-1.0"]);
}

#[test]
fn a_file_entry_is_written_once_and_published_whole() {
    let dir = tempfile::tempdir().unwrap();
    let cache = DiskCache::new(dir.path().join("metadata"));
    let write_metadata = |file: &mut File| file.write_all(b"Name: numpy\nVersion: 2.1.0\n");
    let path = cache
        .get_or_build_file("numpy-2.1.0", write_metadata)
        .unwrap();
    assert_eq!(
        std::fs::read(&path).unwrap(),
        b"Name: numpy\nVersion: 2.1.0\n"
    );
    assert!(std::fs::symlink_metadata(&path).unwrap().is_file());
    let again = cache.resolve_file("numpy-2.1.0", |_: &mut File| -> io::Result<()> {
        panic!("built twice")
    });
    assert_eq!(again.outcome, Outcome::Remembered);
    let other = DiskCache::new(dir.path().join("metadata"));
    let found = other.resolve_file("numpy-2.1.0", |_: &mut File| -> io::Result<()> {
        panic!("built twice")
    });
    assert_eq!(found.outcome, Outcome::FoundOnDisk);
    assert_eq!(listing(cache.root()), ["numpy-2.1.0"]);
}

#[test]
fn a_directory_is_not_served_for_a_file_entry_nor_a_file_for_a_directory() {
    let dir = tempfile::tempdir().unwrap();
    let cache = DiskCache::new(dir.path());
    cache
        .get_or_build("a-dir", |_: &Path| Ok::<(), io::Error>(()))
        .unwrap();
    let other = DiskCache::new(dir.path());
    let error = other
        .get_or_build_file("a-dir", |_: &mut File| Ok::<(), io::Error>(()))
        .unwrap_err();
    assert!(
        matches!(
            error,
            DiskCacheError::Fs(FsError::UnexpectedType {
                found: "directory",
                ..
            })
        ),
        "{error:?}"
    );
}

#[test]
fn a_build_error_of_a_type_that_is_not_clone_reaches_every_waiter_as_one_shared_error() {
    let dir = tempfile::tempdir().unwrap();
    let cache = Arc::new(DiskCache::new(dir.path()));
    let entered = Arc::new(Barrier::new(2));
    let release = Arc::new(Barrier::new(2));
    let (owner, waiter) = within(secs(60), "shared io::Error", {
        let cache = Arc::clone(&cache);
        move || {
            let owner = {
                let (cache, entered, release) = (
                    Arc::clone(&cache),
                    Arc::clone(&entered),
                    Arc::clone(&release),
                );
                std::thread::spawn(move || {
                    cache.get_or_build("broken", |_: &Path| -> io::Result<()> {
                        entered.wait();
                        release.wait();
                        Err(io::Error::new(io::ErrorKind::InvalidData, "no setup.py"))
                    })
                })
            };
            entered.wait();
            let waiter = {
                let cache = Arc::clone(&cache);
                std::thread::spawn(move || {
                    cache.get_or_build("broken", |_: &Path| -> io::Result<()> {
                        panic!("the waiter must not build while the owner runs")
                    })
                })
            };
            // The waiter is registered on the owner's flight before the owner fails.
            while cache.in_flight().first().is_none_or(|b| b.waiters == 0) {
                std::thread::yield_now();
            }
            release.wait();
            (owner.join().unwrap(), waiter.join().unwrap())
        }
    });
    let (DiskCacheError::Build(a), DiskCacheError::Build(b)) =
        (owner.unwrap_err(), waiter.unwrap_err())
    else {
        panic!("both should get the build's error");
    };
    assert!(Arc::ptr_eq(&a, &b), "one error, shared");
    assert_eq!(a.kind(), io::ErrorKind::InvalidData);
    assert_eq!(a.to_string(), "no setup.py");
    assert_eq!(cache.stats().build_failures, 1);
    assert_eq!(cache.stats().failed, 2);
    assert!(
        leftovers(cache.root()).is_empty(),
        "{:?}",
        leftovers(cache.root())
    );
    assert!(listing(cache.root()).is_empty());
}

#[test]
fn a_failed_build_is_not_remembered_and_the_next_request_builds_again() {
    let dir = tempfile::tempdir().unwrap();
    let cache = DiskCache::new(dir.path());
    let first = cache.resolve("flaky", |_: &Path| -> Result<(), String> {
        Err("network".into())
    });
    assert_eq!(first.outcome, Outcome::Failed);
    assert_eq!(first.result.unwrap_err().to_string(), "network");
    let second = cache.resolve("flaky", |staging: &Path| write(&staging.join("ok"), "1"));
    assert_eq!(second.outcome, Outcome::Built);
    assert_eq!(listing(cache.root()), ["flaky"]);
}

#[test]
fn an_entry_deleted_by_another_process_is_built_again_not_returned() {
    let dir = tempfile::tempdir().unwrap();
    let cache = DiskCache::new(dir.path().join("root"));
    let builds = AtomicUsize::new(0);
    let build = |staging: &Path| {
        builds.fetch_add(1, Ordering::SeqCst);
        write(&staging.join("f"), "x")
    };
    let path = cache.get_or_build("e", build).unwrap();
    std::fs::remove_dir_all(&path).unwrap();
    let again = cache.resolve("e", build);
    assert_eq!(again.outcome, Outcome::Built);
    assert!(path.join("f").is_file());
    // The whole root, too.
    std::fs::remove_dir_all(cache.root()).unwrap();
    assert_eq!(cache.get("e").unwrap(), None);
    let again = cache.resolve("e", build);
    assert_eq!(again.outcome, Outcome::Built);
    assert!(path.join("f").is_file());
    assert_eq!(builds.load(Ordering::SeqCst), 3);
}

#[test]
fn get_looks_at_the_disk_and_never_builds() {
    let dir = tempfile::tempdir().unwrap();
    let cache = DiskCache::new(dir.path());
    assert_eq!(cache.get("x").unwrap(), None);
    let built = cache
        .get_or_build("x", |_: &Path| Ok::<(), io::Error>(()))
        .unwrap();
    assert_eq!(cache.get("x").unwrap(), Some(built));
    assert_eq!(cache.stats().requests, 1, "get is not a request");
    assert!(matches!(
        cache.get("../x"),
        Err(DiskCacheError::InvalidId { .. })
    ));
}

#[test]
fn a_panicking_build_leaves_nothing_and_a_waiting_thread_takes_over() {
    let dir = tempfile::tempdir().unwrap();
    let cache = Arc::new(DiskCache::new(dir.path()));
    let entered = Arc::new(Barrier::new(2));
    let release = Arc::new(Barrier::new(2));
    let (panicked, taken_over) = within(secs(60), "a panicking build", {
        let cache = Arc::clone(&cache);
        move || {
            let owner = {
                let (cache, entered, release) = (
                    Arc::clone(&cache),
                    Arc::clone(&entered),
                    Arc::clone(&release),
                );
                std::thread::spawn(move || {
                    cache.get_or_build("p", |staging: &Path| -> io::Result<()> {
                        write(&staging.join("half"), "written")?;
                        entered.wait();
                        release.wait();
                        panic!("the build panics");
                    })
                })
            };
            entered.wait();
            let waiter = {
                let cache = Arc::clone(&cache);
                std::thread::spawn(move || {
                    cache.resolve("p", |staging: &Path| write(&staging.join("whole"), "ok"))
                })
            };
            while cache.in_flight().first().is_none_or(|b| b.waiters == 0) {
                std::thread::yield_now();
            }
            release.wait();
            (owner.join().is_err(), waiter.join().unwrap())
        }
    });
    assert!(panicked);
    assert_eq!(taken_over.outcome, Outcome::Built);
    assert_eq!(
        read_tree(&dir.path().join("p")).keys().collect::<Vec<_>>(),
        ["whole"]
    );
    assert_eq!(listing(dir.path()), ["p"]);
}

#[test]
fn a_build_that_asks_for_its_own_id_gets_would_deadlock_instead_of_hanging() {
    let dir = tempfile::tempdir().unwrap();
    let cache = Arc::new(DiskCache::new(dir.path()));
    let inner = within(secs(30), "re-entry", {
        let cache = Arc::clone(&cache);
        move || {
            let mut inner = None;
            let outer = cache.get_or_build("r", |_: &Path| -> io::Result<()> {
                inner = Some(cache.get_or_build("r", |_: &Path| Ok::<(), io::Error>(())));
                Ok(())
            });
            assert!(outer.is_ok());
            inner.unwrap()
        }
    });
    assert!(
        matches!(inner, Err(DiskCacheError::Wait(WaitError::WouldDeadlock))),
        "{inner:?}"
    );
}

#[test]
fn a_build_that_asks_another_cache_on_its_root_for_its_own_id_gets_would_deadlock() {
    // Two cache values on one root (or one spelled another way) share the lock files
    // but not their maps: the inner request would wait for the lock its own thread
    // holds, forever without a lock timeout.
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("root")).unwrap();
    let outer_cache = DiskCache::new(dir.path().join("root"));
    let inner_cache = DiskCache::new(dir.path().join("root/../root"));
    let (outer, inner, other) = within(secs(30), "re-entry through another cache", move || {
        let (mut inner, mut other) = (None, None);
        let outer = outer_cache.get_or_build("r", |_: &Path| -> io::Result<()> {
            inner = Some(inner_cache.get_or_build("r", |_: &Path| Ok::<(), io::Error>(())));
            // Another id builds as usual.
            other = Some(inner_cache.get_or_build("s", |_: &Path| Ok::<(), io::Error>(())));
            Ok(())
        });
        (outer, inner.unwrap(), other.unwrap())
    });
    assert!(
        matches!(inner, Err(DiskCacheError::Wait(WaitError::WouldDeadlock))),
        "{inner:?}"
    );
    assert_eq!(outer.unwrap(), dir.path().join("root/r"));
    assert_eq!(other.unwrap(), dir.path().join("root/../root/s"));
    // The lock was let go: another thread, and this one, find the entry.
    let again = DiskCache::new(dir.path().join("root"));
    assert!(
        again
            .get_or_build("r", |_: &Path| -> io::Result<()> { panic!("built twice") })
            .is_ok()
    );
    assert_eq!(listing(&dir.path().join("root")), ["r", "s"]);
}

#[test]
fn events_and_in_flight_show_a_build_as_it_happens() {
    let dir = tempfile::tempdir().unwrap();
    let events = Arc::new(Mutex::new(Vec::new()));
    let cache = Arc::new(DiskCache::new(dir.path()).on_event({
        let events = Arc::clone(&events);
        move |event| events.lock().unwrap().push(event.clone())
    }));
    let entered = Arc::new(Barrier::new(2));
    let release = Arc::new(Barrier::new(2));
    within(secs(30), "in flight", {
        let (cache, entered, release) = (
            Arc::clone(&cache),
            Arc::clone(&entered),
            Arc::clone(&release),
        );
        move || {
            let owner = {
                let (cache, entered, release) = (
                    Arc::clone(&cache),
                    Arc::clone(&entered),
                    Arc::clone(&release),
                );
                std::thread::spawn(move || {
                    cache.get_or_build("slow", |_: &Path| -> io::Result<()> {
                        entered.wait();
                        release.wait();
                        Ok(())
                    })
                })
            };
            entered.wait();
            let flying = cache.in_flight();
            assert_eq!(flying.len(), 1);
            assert_eq!(
                (flying[0].id.as_str(), flying[0].phase),
                ("slow", Phase::Building)
            );
            release.wait();
            owner.join().unwrap().unwrap();
            assert!(cache.in_flight().is_empty());
        }
    });
    let events = events.lock().unwrap();
    assert!(
        matches!(&events[..], [
        CacheEvent::Building { id, .. },
        CacheEvent::Built { path, .. },
    ] if &**id == "slow" && path == &dir.path().join("slow")),
        "{events:?}"
    );
}

#[test]
fn durable_mode_publishes_the_same_entries() {
    let dir = tempfile::tempdir().unwrap();
    let cache = DiskCache::new(dir.path()).durable(true);
    let path = cache
        .get_or_build("d", |staging: &Path| {
            std::fs::create_dir_all(staging.join("a/b"))?;
            write(&staging.join("a/b/c"), "deep")
        })
        .unwrap();
    assert_eq!(read_tree(&path)["a/b/c"], b"deep");
    let file = cache
        .get_or_build_file("f", |file: &mut File| file.write_all(b"data"))
        .unwrap();
    assert_eq!(std::fs::read(file).unwrap(), b"data");
    assert_eq!(listing(dir.path()), ["d", "f"]);
}

#[test]
fn sweep_removes_what_a_dead_process_left_and_skips_live_builds() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    // What `kill -9` in the middle of a build leaves: the lock file (free now) and a
    // half-filled staging entry.
    std::fs::write(root.join(".dead.lock"), b"").unwrap();
    std::fs::create_dir(root.join(".dead.staging")).unwrap();
    std::fs::write(root.join(".dead.staging/half"), b"h").unwrap();
    std::fs::write(root.join(".gone.staging"), b"a staging file").unwrap();
    let cache = DiskCache::new(root);
    assert_eq!(cache.sweep().unwrap(), 2);
    assert!(listing(root).is_empty(), "{:?}", listing(root));
    // A cache's first build sweeps too.
    std::fs::create_dir(root.join(".dead.staging")).unwrap();
    cache
        .get_or_build("live", |_: &Path| Ok::<(), io::Error>(()))
        .unwrap();
    assert_eq!(listing(root), ["live"]);
}
