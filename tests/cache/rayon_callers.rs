//! Requests that come from rayon's own threads: a worker of the global pool, of a
//! custom pool, the only worker of a one-thread pool (nested `join` included). None
//! may fail or hang because of the thread it comes from.
//!
//! The trap these tests set: the thread that owns an extraction must not pick up
//! another queued request for the same id while it waits for its file jobs (the map
//! would then report `WouldDeadlock`, rightly), and the threads blocked waiting for an
//! extraction must not be the ones the extraction needs to make progress.

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use inflight::{CacheError, UnzipCache};
use rayon::prelude::*;

use super::common::{read_tree, secs, within};
use super::{archive, contents, leftovers};

/// Enough files that an extraction takes a few milliseconds: long enough for the
/// queued requests of a round to reach the pool while it runs.
const FILES: usize = 150;

fn wheel(dir: &Path) -> PathBuf {
    archive(dir, "shared.whl", 7, FILES)
}

/// Checks one round: every request got the id's directory, which holds the archive.
fn assert_round(cache: &UnzipCache, id: &str, results: &[Result<PathBuf, CacheError>]) {
    let expected = cache.root().join(id);
    let failed: Vec<String> = results
        .iter()
        .filter_map(|r| r.as_ref().err().map(ToString::to_string))
        .collect();
    assert!(
        failed.is_empty(),
        "{} of {} requests for {id} failed, first: {}",
        failed.len(),
        results.len(),
        failed[0]
    );
    assert!(results.iter().all(|r| r.as_ref().ok() == Some(&expected)));
    assert_eq!(read_tree(&expected), contents(7, FILES));
}

#[test]
fn requests_spawned_on_a_custom_pool_never_fail_or_hang() {
    let (rounds, requests) = (12, 30);
    let dir = tempfile::tempdir().unwrap();
    let wheel = wheel(dir.path());
    let root = dir.path().join("cache");
    within(
        secs(120),
        "requests_spawned_on_a_custom_pool_never_fail_or_hang",
        move || {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(3)
                .build()
                .unwrap();
            let cache = std::sync::Arc::new(UnzipCache::new(&root));
            for round in 0..rounds {
                let id = format!("spawned-{round}");
                let (tx, rx) = mpsc::channel();
                for _ in 0..requests {
                    let (cache, wheel, id, tx) =
                        (cache.clone(), wheel.clone(), id.clone(), tx.clone());
                    pool.spawn(move || {
                        let _ = tx.send(cache.unzip(&wheel, &id));
                    });
                }
                drop(tx);
                let results: Vec<_> = rx.iter().collect();
                assert_eq!(results.len(), requests, "a request was lost");
                assert_round(&cache, &id, &results);
            }
            assert_eq!(cache.stats().extractions, rounds as u64);
            assert!(leftovers(cache.root()).is_empty());
        },
    );
}

#[test]
fn requests_from_par_iter_on_the_global_pool_never_fail_or_hang() {
    let (rounds, requests) = (12, 40);
    let dir = tempfile::tempdir().unwrap();
    let wheel = wheel(dir.path());
    let root = dir.path().join("cache");
    within(
        secs(120),
        "requests_from_par_iter_on_the_global_pool_never_fail_or_hang",
        move || {
            let cache = UnzipCache::new(&root);
            for round in 0..rounds {
                let id = format!("par-iter-{round}");
                // Nested parallel iterators, as an installer resolving a batch does.
                let results: Vec<_> = (0..requests / 4)
                    .into_par_iter()
                    .flat_map_iter(|_| {
                        (0..4)
                            .into_par_iter()
                            .map(|_| cache.unzip(&wheel, &id))
                            .collect::<Vec<_>>()
                    })
                    .collect();
                assert_round(&cache, &id, &results);
            }
            assert_eq!(cache.stats().extractions, rounds as u64);
        },
    );
}

#[test]
fn requests_from_the_only_worker_of_a_one_thread_pool_never_fail_or_hang() {
    let rounds = 12;
    let dir = tempfile::tempdir().unwrap();
    let wheel = wheel(dir.path());
    let root = dir.path().join("cache");
    within(
        secs(120),
        "requests_from_the_only_worker_of_a_one_thread_pool_never_fail_or_hang",
        move || {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(1)
                .build()
                .unwrap();
            let cache = std::sync::Arc::new(UnzipCache::new(&root));
            for round in 0..rounds {
                let id = format!("one-thread-{round}");
                // Requests queued on the pool behind the one that will own the extraction...
                let (tx, rx) = mpsc::channel();
                for _ in 0..8 {
                    let (cache, wheel, id, tx) =
                        (cache.clone(), wheel.clone(), id.clone(), tx.clone());
                    pool.spawn(move || {
                        let _ = tx.send(cache.unzip(&wheel, &id));
                    });
                }
                drop(tx);
                // ...and nested joins on the same single worker.
                let mut nested = pool.install(|| {
                    let ((a, b), (c, d)) = rayon::join(
                        || rayon::join(|| cache.unzip(&wheel, &id), || cache.unzip(&wheel, &id)),
                        || rayon::join(|| cache.unzip(&wheel, &id), || cache.unzip(&wheel, &id)),
                    );
                    vec![a, b, c, d]
                });
                nested.extend(rx.iter());
                assert_eq!(nested.len(), 12, "a request was lost");
                assert_round(&cache, &id, &nested);
            }
            assert_eq!(cache.stats().extractions, rounds as u64);
        },
    );
}

#[test]
fn plain_threads_and_pool_workers_mixed_share_one_extraction() {
    let rounds = 8;
    let dir = tempfile::tempdir().unwrap();
    let wheel = wheel(dir.path());
    let root = dir.path().join("cache");
    within(
        secs(120),
        "plain_threads_and_pool_workers_mixed_share_one_extraction",
        move || {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(2)
                .build()
                .unwrap();
            let cache = UnzipCache::new(&root);
            for round in 0..rounds {
                let id = format!("mixed-{round}");
                let deadline = Instant::now() + Duration::from_secs(60);
                let results: Vec<_> = std::thread::scope(|s| {
                    let plain: Vec<_> = (0..3)
                        .map(|_| s.spawn(|| cache.unzip(&wheel, &id)))
                        .collect();
                    let mut results: Vec<_> = pool.install(|| {
                        (0..6)
                            .into_par_iter()
                            .map(|_| cache.unzip(&wheel, &id))
                            .collect()
                    });
                    let global: Vec<_> = (0..6)
                        .into_par_iter()
                        .map(|_| cache.unzip(&wheel, &id))
                        .collect();
                    results.extend(global);
                    results.extend(plain.into_iter().map(|h| h.join().unwrap()));
                    results
                });
                assert!(Instant::now() < deadline);
                assert_round(&cache, &id, &results);
            }
            assert_eq!(cache.stats().extractions, rounds as u64);
        },
    );
}

#[test]
fn an_owner_on_a_plain_thread_finishes_while_every_global_worker_waits_for_it() {
    let rounds = 5;
    let dir = tempfile::tempdir().unwrap();
    let wheel = wheel(dir.path());
    let root = dir.path().join("cache");
    within(
        secs(120),
        "an_owner_on_a_plain_thread_finishes_while_every_global_worker_waits_for_it",
        move || {
            // The callback's first report runs on the owner before any file is written:
            // it lets the pool requests in, then gives them time to block every worker.
            let (started_tx, started_rx) = mpsc::sync_channel::<()>(rounds);
            let unzipper = inflight::Unzipper::new().progress(move |p| {
                if p.files_done == 0 {
                    let _ = started_tx.send(());
                    std::thread::sleep(Duration::from_millis(200));
                }
            });
            let cache = std::sync::Arc::new(UnzipCache::with_unzipper(&root, unzipper));
            for round in 0..rounds {
                let id = format!("global-waits-{round}");
                let owner = {
                    let (cache, wheel, id) = (cache.clone(), wheel.clone(), id.clone());
                    std::thread::spawn(move || cache.unzip(&wheel, &id))
                };
                started_rx.recv().unwrap();
                let (tx, rx) = mpsc::channel();
                for _ in 0..4 * rayon::current_num_threads() {
                    let (cache, wheel, id, tx) =
                        (cache.clone(), wheel.clone(), id.clone(), tx.clone());
                    rayon::spawn(move || {
                        let _ = tx.send(cache.unzip(&wheel, &id));
                    });
                }
                drop(tx);
                let mut results: Vec<_> = rx.iter().collect();
                results.push(owner.join().unwrap());
                assert_round(&cache, &id, &results);
            }
            assert_eq!(cache.stats().extractions, rounds as u64);
        },
    );
}
