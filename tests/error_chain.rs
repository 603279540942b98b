//! Every error of the crate names its context in its message and hands its cause out
//! through `source()`, never both: an error-chain printer (`anyhow`'s `{:#}`, the main
//! job's report) shows each cause once. Each test walks a real chain and checks that no
//! message contains the text of a cause further down.

#![cfg(not(loom))]

use std::error::Error;
use std::fmt;
use std::io;
use std::path::PathBuf;

use inflight::{
    CacheError, Entry, OnceMap, TryInitError, UnzipCache, UnzipError, Unzipper, WaitError,
};

/// The messages of `error` and of each of its sources, outermost first.
fn chain(error: &(dyn Error + 'static)) -> Vec<String> {
    let mut texts = vec![error.to_string()];
    let mut source = error.source();
    while let Some(cause) = source {
        texts.push(cause.to_string());
        source = cause.source();
    }
    texts
}

/// Asserts that no message in `error`'s chain repeats a message further down, and
/// that the chain is `len` long.
fn assert_each_cause_once(error: &(dyn Error + 'static), len: usize) {
    let texts = chain(error);
    for (i, outer) in texts.iter().enumerate() {
        for inner in &texts[i + 1..] {
            assert!(
                !outer.contains(inner.as_str()),
                "{outer:?} repeats its cause {inner:?}; the chain: {texts:#?}"
            );
        }
    }
    assert_eq!(texts.len(), len, "the chain: {texts:#?}");
}

/// A cause with a cause of its own, to see that chains are passed through whole.
#[derive(Debug)]
struct Outer(io::Error);

impl fmt::Display for Outer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("mirror unreachable")
    }
}

impl Error for Outer {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.0)
    }
}

fn refused() -> io::Error {
    io::Error::new(io::ErrorKind::ConnectionRefused, "connection refused")
}

#[test]
fn an_archive_that_cannot_be_opened_names_it_once_and_its_os_error_once() {
    let dir = tempfile::tempdir().unwrap();
    let error = Unzipper::new()
        .unzip(dir.path().join("missing.whl"), dir.path().join("out"))
        .unwrap_err();
    assert!(matches!(error, UnzipError::OpenArchive { .. }), "{error:?}");
    assert_each_cause_once(&error, 2);
}

#[test]
fn an_archive_that_is_not_a_zip_names_it_once_and_the_parser_error_once() {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("not.zip");
    std::fs::write(&archive, b"not a zip archive at all, just text").unwrap();
    let error = Unzipper::new()
        .unzip(&archive, dir.path().join("out"))
        .unwrap_err();
    assert!(
        matches!(error, UnzipError::CentralDirectory { .. }),
        "{error:?}"
    );
    let texts = chain(&error);
    assert_each_cause_once(&error, texts.len());
    assert!(texts.len() >= 2, "{texts:?}");
}

#[test]
fn every_unzip_error_with_a_source_keeps_it_out_of_its_message() {
    let path = PathBuf::from("/cache/numpy/__init__.py");
    let errors = [
        UnzipError::OpenArchive {
            archive: path.clone(),
            source: io::Error::other(Outer(refused())),
        },
        UnzipError::ReadArchive {
            archive: path.clone(),
            source: io::Error::other(Outer(refused())),
        },
        UnzipError::CorruptData {
            index: 3,
            name: "numpy/__init__.py".into(),
            source: io::Error::other(Outer(refused())),
        },
        UnzipError::Write {
            path: path.clone(),
            source: io::Error::other(Outer(refused())),
        },
        UnzipError::Publish {
            staging: path.clone(),
            dest: path.clone(),
            source: io::Error::other(Outer(refused())),
        },
    ];
    for error in &errors {
        // The variant, the io::Error (transparent over the error it wraps: it displays
        // it and returns its source), that error's cause.
        assert_each_cause_once(error, 3);
    }
}

#[test]
fn a_failed_extraction_through_the_cache_shows_each_cause_once() {
    let dir = tempfile::tempdir().unwrap();
    let cache = UnzipCache::new(dir.path().join("cache"));
    let error = cache
        .unzip(dir.path().join("missing.whl"), "missing")
        .unwrap_err();
    assert!(matches!(error, CacheError::Unzip(_)), "{error:?}");
    // CacheError is transparent over the UnzipError: the archive, then the OS error.
    assert_each_cause_once(&error, 2);
}

#[test]
fn a_job_error_shared_with_a_waiter_shows_the_job_error_and_its_causes_once() {
    let map: OnceMap<u32, u32> = OnceMap::new();
    let Entry::Vacant(guard) = map.entry(&1) else {
        unreachable!()
    };
    let Entry::Pending(waiter) = map.entry(&1) else {
        unreachable!()
    };
    guard.fail(Outer(refused()));
    let error = waiter.wait().unwrap_err();
    let WaitError::Failed(job) = &error else {
        panic!("{error:?}")
    };
    assert_eq!(job.to_string(), "mirror unreachable");
    assert!(job.downcast_ref::<Outer>().is_some());
    // "the job failed" -> the job's error -> its cause.
    assert_each_cause_once(&error, 3);
    assert_eq!(chain(&error)[0], "the job failed");
}

#[test]
fn a_message_shared_with_a_waiter_displays_as_the_message() {
    let map: OnceMap<u32, u32> = OnceMap::new();
    let Entry::Vacant(guard) = map.entry(&1) else {
        unreachable!()
    };
    let Entry::Pending(waiter) = map.entry(&1) else {
        unreachable!()
    };
    guard.fail_with_message(String::from("disk full"));
    let error = waiter.wait().unwrap_err();
    assert_each_cause_once(&error, 2);
    assert_eq!(chain(&error), ["the job failed", "disk full"]);
}

#[test]
fn try_init_errors_are_transparent() {
    let map: OnceMap<u32, u32> = OnceMap::new();
    // `Outer` is not `Clone`, and needs no wrapping: the error arrives in an `Arc`.
    let own = map
        .get_or_try_init(&1, || Err::<u32, _>(Outer(refused())))
        .unwrap_err();
    assert_each_cause_once(&own, 2);
    assert_eq!(chain(&own), ["mirror unreachable", "connection refused"]);

    map.close();
    let closed = map
        .get_or_try_init(&2, || Ok::<_, io::Error>(2))
        .unwrap_err();
    assert!(matches!(closed, TryInitError::Wait(WaitError::Closed)));
    assert_each_cause_once(&closed, 1);
}

#[test]
fn a_try_init_error_shared_with_a_waiter_shows_its_message_once_and_no_cause() {
    let map: OnceMap<u32, u32> = OnceMap::new();
    let mut waiter = None;
    let own = map
        .get_or_try_init(&1, || {
            // Registered while the job runs; it waits after the job failed.
            waiter = Some(match map.entry(&1) {
                Entry::Pending(waiter) => waiter,
                _ => unreachable!("this call runs the job"),
            });
            Err::<u32, _>(Outer(refused()))
        })
        .unwrap_err();
    assert_eq!(chain(&own), ["mirror unreachable", "connection refused"]);
    let error = waiter.expect("registered").wait().unwrap_err();
    // "the job failed" -> the job's error, as a message: `get_or_try_init` does not
    // require `E: Error`, so a waiter's `JobError` has no source (documented on
    // `get_or_try_init`); the cause is shown nowhere twice.
    assert_each_cause_once(&error, 2);
    assert_eq!(chain(&error), ["the job failed", "mirror unreachable"]);
}
