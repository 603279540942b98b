//! Failures after writing started, races on `dest`, panics, and what callers see.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier, Mutex};

use inflight::{Limits, Progress, UnzipError as E, Unzipper};

use crate::assert_matches;
use crate::round_trip::semi_compressible;
use crate::support::{Raw, Scene, beside, build, listing};

fn good_files(count: usize) -> Vec<Raw> {
    (0..count)
        .map(|i| {
            Raw::deflated(
                &format!("d{}/f{i}.txt", i % 4),
                format!("file {i}\n").repeat(50).as_bytes(),
            )
        })
        .collect()
}

#[test]
fn a_corrupt_last_entry_that_is_written_first_leaves_nothing_behind() {
    let mut entries = good_files(60);
    let mut big = Raw::deflated("z/big.bin", &semi_compressible(1 << 20, 3));
    big.crc ^= 1;
    entries.push(big);
    let scene = Scene::new(&build(&entries));
    assert_matches!(
        scene.unzip(&Unzipper::new()),
        Err(E::CrcMismatch { index: 60, .. })
    );
    scene.assert_untouched();
}

#[test]
fn a_corrupt_small_entry_written_last_leaves_nothing_behind() {
    let mut entries: Vec<Raw> = (0..4)
        .map(|i| Raw::stored(&format!("big{i}"), &semi_compressible(1 << 20, i)))
        .collect();
    entries.extend(good_files(40));
    let mut small = Raw::stored("tiny", b"x");
    small.crc ^= 1;
    entries.push(small);
    let scene = Scene::new(&build(&entries));
    assert_matches!(
        scene.unzip(&Unzipper::new()),
        Err(E::CrcMismatch { index: 44, .. })
    );
    scene.assert_untouched();
}

#[test]
fn the_error_reported_is_the_lowest_failing_index_whatever_the_timing() {
    // Entry 5 is small and fails late; entry 30 is large, runs first and fails early.
    let mut entries = good_files(40);
    entries[5].crc ^= 1;
    entries[30] = Raw::deflated("late/big", &semi_compressible(1 << 20, 9));
    entries[30].size -= 1;
    let bytes = build(&entries);
    for _ in 0..20 {
        let scene = Scene::new(&bytes);
        assert_matches!(
            scene.unzip(&Unzipper::new()),
            Err(E::CrcMismatch { index: 5, .. })
        );
        scene.assert_untouched();
    }
}

#[test]
fn a_panicking_progress_callback_unwinds_and_leaves_nothing_behind() {
    let scene = Scene::new(&build(&good_files(30)));
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&calls);
    let unzipper = Unzipper::new().progress(move |p| {
        seen.fetch_add(1, Ordering::Relaxed);
        if p.files_done == 10 {
            panic!("progress bar broke");
        }
    });
    let result = catch_unwind(AssertUnwindSafe(|| scene.unzip_seekable(&unzipper)));
    assert!(result.is_err(), "the panic should reach the caller");
    assert!(calls.load(Ordering::Relaxed) >= 11);
    scene.assert_untouched();
}

#[test]
fn progress_reports_start_at_zero_and_end_at_the_totals() {
    let entries = good_files(25);
    let total: u64 = entries.iter().map(|e| u64::from(e.size)).sum();
    let scene = Scene::new(&build(&entries));
    let reports = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&reports);
    let unzipper = Unzipper::new().progress(move |p| sink.lock().unwrap().push(p));
    let done = scene.unzip_seekable(&unzipper).unwrap();
    let reports = reports.lock().unwrap();
    assert_eq!(reports.len(), 26);
    assert_eq!(reports[0].files_done, 0);
    assert_eq!(reports[0].bytes_total, total);
    let last = reports.iter().max_by_key(|p| p.files_done).unwrap();
    assert_eq!(
        (last.files_done, last.files_total, last.bytes_done),
        (25, 25, total)
    );
    assert_eq!(done.bytes, total);
    assert!(
        reports
            .iter()
            .all(|p: &Progress| p.bytes_done <= p.bytes_total)
    );
}

#[test]
fn an_existing_destination_is_never_replaced_or_merged_into() {
    let scene = Scene::new(&build(&good_files(5)));
    std::fs::create_dir(&scene.dest).unwrap();
    std::fs::write(scene.dest.join("mine"), b"keep").unwrap();
    assert_matches!(
        scene.unzip(&Unzipper::new()),
        Err(E::DestinationExists { .. })
    );
    assert_eq!(listing(&scene.dest), ["mine"]);
    assert_eq!(beside(&scene.root.path().join("parent")), ["dest"]);
}

#[test]
fn racing_extractions_to_one_destination_publish_exactly_one() {
    let entries = good_files(200);
    let scene = Scene::new(&build(&entries));
    let threads = 6;
    let barrier = Barrier::new(threads);
    let results: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    barrier.wait();
                    scene.unzip(&Unzipper::new())
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let won = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(won, 1, "{results:?}");
    for result in &results {
        assert_matches!(result, Ok(_) | Err(E::DestinationExists { .. }));
    }
    assert_eq!(beside(&scene.root.path().join("parent")), ["dest"]);
    assert_eq!(listing(&scene.dest), ["d0", "d1", "d2", "d3"]);
}

#[test]
fn helpers_run_on_the_thread_pool_given() {
    let scene = Scene::new(&build(&good_files(20)));
    let pool = Arc::new(
        rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .thread_name(|i| format!("given-pool-{i}"))
            .build()
            .unwrap(),
    );
    let caller = std::thread::current().id();
    let writers = Arc::new(Mutex::new(std::collections::BTreeSet::new()));
    let seen = Arc::clone(&writers);
    let unzipper = Unzipper::new().thread_pool(pool).progress(move |p| {
        let me = std::thread::current();
        if me.id() == caller {
            if p.files_done > 0 {
                // Hold the caller in its report of its first file until a helper has
                // written one, so the helpers cannot find the board empty.
                let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
                while seen.lock().unwrap().is_empty() && std::time::Instant::now() < deadline {
                    std::thread::sleep(std::time::Duration::from_millis(1));
                }
            }
        } else if p.files_done > 0 {
            seen.lock()
                .unwrap()
                .insert(me.name().unwrap_or("").to_owned());
        }
    });
    assert_eq!(scene.unzip_seekable(&unzipper).unwrap().files, 20);
    let writers = writers.lock().unwrap();
    assert_eq!(
        writers.iter().cloned().collect::<Vec<_>>(),
        ["given-pool-0"]
    );
}

#[test]
fn a_missing_archive_and_an_unusable_destination_are_reported_with_their_paths() {
    let scene = Scene::new(b"");
    let missing = scene.root.path().join("missing.zip");
    assert_matches!(Unzipper::new().unzip(&missing, &scene.dest), Err(E::OpenArchive { archive, .. }) if archive == missing);
    let archive = &scene.archive;
    assert_matches!(
        Unzipper::new().unzip(archive, "/"),
        Err(E::InvalidDestination { .. })
    );
    let no_parent = scene.root.path().join("nope/dest");
    assert_matches!(
        Unzipper::new().unzip(archive, &no_parent),
        Err(E::CentralDirectory { .. })
    );
    let good = Scene::new(&build(&good_files(1)));
    let no_parent = good.root.path().join("nope/dest");
    assert_matches!(
        Unzipper::new().unzip(&good.archive, &no_parent),
        Err(E::Write { .. })
    );
    assert!(!good.root.path().join("nope").exists());
}

#[test]
fn limits_none_accepts_what_the_defaults_reject() {
    let content = vec![0u8; 4 << 20];
    let bytes = build(&[Raw::deflated("zeros", &content)]);
    let mut strict = Limits::default();
    strict.max_compression_ratio = 100;
    let scene = Scene::new(&bytes);
    assert_matches!(
        scene.unzip(&Unzipper::new().limits(strict)),
        Err(E::CompressionRatio { .. })
    );
    scene.assert_untouched();
    assert_eq!(
        scene
            .unzip(&Unzipper::new().limits(Limits::none()))
            .unwrap()
            .bytes,
        4 << 20
    );
}
