//! Issue 21, class 4: `Limits::max_entries` counts what an archive creates on the file
//! system, every directory included: `a/b/c/d.py` is four objects, not one entry.

use inflight::{Limits, UnzipError as E, Unzipper};

use crate::assert_matches;
use crate::forge::{Raw, build};
use crate::support::{Scene, reject, reject_with};

fn limited(max_entries: usize) -> Limits {
    let mut limits = Limits::default();
    limits.max_entries = max_entries;
    limits
}

#[test]
fn the_entry_limit_counts_implied_directories() {
    let bytes = build(&[Raw::stored("a/b/c/d.py", b"deep")]);
    assert_matches!(
        reject_with(&bytes, limited(3)),
        E::TooManyEntries { count: 4, limit: 3 }
    );
    let done = Scene::new(&bytes)
        .unzip(&Unzipper::new().limits(limited(4)))
        .unwrap();
    assert_eq!((done.files, done.dirs), (1, 3));
}

#[test]
fn explicit_and_implied_directories_are_counted_once() {
    let bytes = build(&[
        Raw::dir("a/"),
        Raw::stored("a/b/one.py", b"1"),
        Raw::dir("a/b/"),
        Raw::stored("a/b/two.py", b"2"),
    ]);
    let done = Scene::new(&bytes)
        .unzip(&Unzipper::new().limits(limited(4)))
        .unwrap();
    assert_eq!((done.files, done.dirs), (2, 2));
    assert_matches!(
        reject_with(&bytes, limited(3)),
        E::TooManyEntries { limit: 3, .. }
    );
}

#[test]
fn a_small_archive_of_deep_paths_is_refused_by_the_default_limit() {
    // 3,200 entries, each under its own top directory and 63 levels deep: 204,800
    // directories and files from about a megabyte, where the entries alone (3,200)
    // are far inside the default limit of 200,000.
    let step = "d/".repeat(62);
    let entries: Vec<Raw> = (0..3_200)
        .map(|i| Raw::stored(&format!("t{i}/{step}f"), b""))
        .collect();
    let bytes = build(&entries);
    assert!(bytes.len() < 1_300_000, "{} bytes", bytes.len());
    assert_matches!(
        reject(&bytes),
        E::TooManyEntries {
            limit: 200_000,
            count,
        } if count > 200_000
    );
}
