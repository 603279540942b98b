//! `UnzipCache::unzip_stream`: the opener (a download) runs only in the request that
//! owns the id's build, once across threads and processes; its failures and the
//! stream's are shared by the waiters, not remembered, and leave nothing in the root;
//! the options' hash check and archive copy work through the cache.
//!
//! The other processes are this test binary, started with `--ignored --exact
//! streams::stream_process` and told what to do through the environment.

use std::io::{self, Cursor, Read, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use inflight::{CacheError, Outcome, StreamOptions, UnzipCache, UnzipError};
use sha2::{Digest, Sha256};

use super::common::{found, listing, read_tree, secs, within};
use super::{archive, contents, leftovers};

/// The bytes of a wheel-like archive: `contents(seed, n)` under `pkg/`.
fn wheel(seed: u8, n: usize) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::read(archive(dir.path(), "w.whl", seed, n)).unwrap()
}

/// What a download can do at a byte: end there, fail there, or panic there.
#[derive(Debug, Clone, Copy)]
enum Stop {
    End(usize),
    Fail(usize),
    Panic(usize),
}

/// A download: `chunk` bytes per read at most, each after a pause; it may stop at
/// one byte, and runs `at_stop` just before.
struct Download {
    bytes: Vec<u8>,
    at: usize,
    chunk: usize,
    pause: Duration,
    stop: Option<Stop>,
    at_stop: Option<Box<dyn FnMut() + Send>>,
}

impl Download {
    /// `bytes`, 2 KiB every 2 ms.
    fn slow(bytes: Vec<u8>) -> Download {
        Download {
            bytes,
            at: 0,
            chunk: 2048,
            pause: Duration::from_millis(2),
            stop: None,
            at_stop: None,
        }
    }

    fn stopping(bytes: Vec<u8>, stop: Stop, at_stop: impl FnMut() + Send + 'static) -> Download {
        Download {
            stop: Some(stop),
            at_stop: Some(Box::new(at_stop)),
            ..Download::slow(bytes)
        }
    }
}

impl Read for Download {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        std::thread::sleep(self.pause);
        let mut end = self.bytes.len();
        if let Some(Stop::End(at) | Stop::Fail(at) | Stop::Panic(at)) = self.stop {
            end = end.min(at);
            if self.at == at {
                if let Some(mut at_stop) = self.at_stop.take() {
                    at_stop();
                }
                match self.stop {
                    Some(Stop::Fail(_)) => {
                        return Err(io::Error::new(
                            io::ErrorKind::ConnectionReset,
                            "the download broke",
                        ));
                    }
                    Some(Stop::Panic(_)) => panic!("the download panics"),
                    _ => {}
                }
            }
        }
        let n = buf.len().min(self.chunk).min(end - self.at);
        buf[..n].copy_from_slice(&self.bytes[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Waits (up to 30 s) until `threads` other threads of this process wait for `id`.
fn until_waited_for(cache: &UnzipCache, id: &str, threads: usize) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let flying = cache.in_flight();
        if flying
            .iter()
            .any(|build| build.id == id && build.waiters == threads)
        {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "never {threads} waiters: {flying:?}"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn eight_threads_asking_for_one_stream_open_it_once_and_share_its_directory() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = wheel(3, 40);
    let cache = Arc::new(UnzipCache::new(dir.path().join("cache")));
    let opened = Arc::new(AtomicUsize::new(0));
    let threads = 8;
    let barrier = Arc::new(Barrier::new(threads));
    let answers = within(secs(60), "eight threads, one stream", {
        let (cache, opened) = (Arc::clone(&cache), Arc::clone(&opened));
        move || {
            let handles: Vec<_> = (0..threads)
                .map(|_| {
                    let (cache, opened, barrier, bytes) = (
                        Arc::clone(&cache),
                        Arc::clone(&opened),
                        Arc::clone(&barrier),
                        bytes.clone(),
                    );
                    std::thread::spawn(move || {
                        barrier.wait();
                        cache.unzip_stream_with(
                            "pkg-1.0",
                            || {
                                opened.fetch_add(1, Ordering::SeqCst);
                                Ok(Download::slow(bytes))
                            },
                            &StreamOptions::new(),
                        )
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap())
                .collect::<Vec<_>>()
        }
    });
    assert_eq!(opened.load(Ordering::SeqCst), 1, "the opener ran once");
    let outcomes: Vec<Outcome> = answers.iter().map(|(outcome, _)| *outcome).collect();
    assert_eq!(
        outcomes.iter().filter(|o| **o == Outcome::Built).count(),
        1,
        "{outcomes:?}"
    );
    assert!(
        outcomes.iter().all(|o| matches!(
            o,
            Outcome::Built | Outcome::WaitedForThread | Outcome::Remembered
        )),
        "{outcomes:?}"
    );
    let expected = dir.path().join("cache/pkg-1.0");
    for (_, result) in &answers {
        assert_eq!(result.as_ref().unwrap(), &expected);
    }
    assert_eq!(read_tree(&expected), contents(3, 40));
    assert_eq!(cache.stats().extractions, 1);
    assert_eq!(listing(cache.root()), ["pkg-1.0"]);
}

const MODE: &str = "INFLIGHT_TEST_STREAM_MODE";
const ROOT: &str = "INFLIGHT_TEST_STREAM_ROOT";
const ARCHIVES: &str = "INFLIGHT_TEST_STREAM_ARCHIVES";
const LOG: &str = "INFLIGHT_TEST_STREAM_LOG";
const GO: &str = "INFLIGHT_TEST_STREAM_GO";
const IDS: usize = 4;
const THREADS: usize = 4;

/// The archive of id `s<i>`: its seed and number of files.
fn shape(i: usize) -> (u8, usize) {
    (i as u8 + 1, 20 + 5 * i)
}

/// Not a test of its own: one of the two processes of
/// `two_processes_of_several_threads_open_each_stream_once`. Without the
/// environment the parent sets it does nothing, so `--include-ignored` passes.
#[test]
#[ignore = "helper process, started by two_processes_of_several_threads_open_each_stream_once"]
fn stream_process() {
    let Some(mode) = std::env::var_os(MODE) else {
        return;
    };
    assert_eq!(mode, "race");
    let var = |name| PathBuf::from(std::env::var_os(name).expect("set by the parent"));
    let (root, archives, log, go) = (var(ROOT), var(ARCHIVES), var(LOG), var(GO));
    while !go.exists() {
        std::thread::sleep(Duration::from_millis(1));
    }
    let cache = UnzipCache::new(&root);
    std::thread::scope(|s| {
        for t in 0..THREADS {
            let (cache, archives, log, root) = (&cache, &archives, &log, &root);
            s.spawn(move || {
                for k in 0..IDS {
                    let i = (k + t) % IDS;
                    let id = format!("s{i}");
                    // The download: recorded in the log (one whole line per call,
                    // appended), then delivered slowly so the other process's requests
                    // overlap it.
                    let open = || {
                        let mut file = std::fs::OpenOptions::new()
                            .append(true)
                            .create(true)
                            .open(log)?;
                        file.write_all(format!("{id} {}\n", std::process::id()).as_bytes())?;
                        Ok(Download::slow(std::fs::read(
                            archives.join(format!("{id}.whl")),
                        )?))
                    };
                    let path = cache.unzip_stream(&id, open).unwrap();
                    assert_eq!(path, root.join(&id));
                    let (seed, n) = shape(i);
                    assert_eq!(read_tree(&path), contents(seed, n));
                }
            });
        }
    });
}

#[test]
fn two_processes_of_several_threads_open_each_stream_once() {
    let dir = tempfile::tempdir().unwrap();
    let archives = dir.path().join("archives");
    std::fs::create_dir(&archives).unwrap();
    for i in 0..IDS {
        let (seed, n) = shape(i);
        archive(&archives, &format!("s{i}.whl"), seed, n);
    }
    let (root, log, go) = (
        dir.path().join("cache"),
        dir.path().join("log"),
        dir.path().join("go"),
    );
    let outputs = within(secs(120), "two processes streaming", {
        let (root, archives, log, go) = (root.clone(), archives, log.clone(), go);
        move || {
            let children: Vec<_> = (0..2)
                .map(|_| {
                    Command::new(std::env::current_exe().unwrap())
                        .args([
                            "--ignored",
                            "--exact",
                            "streams::stream_process",
                            "--test-threads=1",
                        ])
                        .env(MODE, "race")
                        .env(ROOT, &root)
                        .env(ARCHIVES, &archives)
                        .env(LOG, &log)
                        .env(GO, &go)
                        .stdout(Stdio::piped())
                        .stderr(Stdio::piped())
                        .spawn()
                        .unwrap()
                })
                .collect();
            // Both started before either may begin: they run at the same time.
            std::fs::write(&go, "").unwrap();
            children
                .into_iter()
                .map(|child| child.wait_with_output().unwrap())
                .collect::<Vec<_>>()
        }
    });
    for output in &outputs {
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success() && stdout.contains("1 passed"),
            "a process failed:\n{stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let log = std::fs::read_to_string(&log).unwrap();
    let mut opened: Vec<&str> = log.lines().map(|l| l.split(' ').next().unwrap()).collect();
    opened.sort_unstable();
    let expected: Vec<String> = (0..IDS).map(|i| format!("s{i}")).collect();
    assert_eq!(opened, expected, "each id opened exactly once:\n{log}");
    assert_eq!(
        listing(&root),
        expected,
        "only complete entries in the root"
    );
    for i in 0..IDS {
        let (seed, n) = shape(i);
        assert_eq!(read_tree(&root.join(format!("s{i}"))), contents(seed, n));
    }
}

#[test]
fn an_opener_that_fails_gives_every_waiter_the_same_stream_read_error_and_is_not_remembered() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = wheel(5, 12);
    let cache = Arc::new(UnzipCache::new(dir.path().join("cache")));
    let opened = Arc::new(AtomicUsize::new(0));
    let threads = 8;
    let barrier = Arc::new(Barrier::new(threads));
    let answers = within(secs(60), "a failing opener with seven waiters", {
        let (cache, opened) = (Arc::clone(&cache), Arc::clone(&opened));
        move || {
            let handles: Vec<_> = (0..threads)
                .map(|_| {
                    let (cache, opened, barrier) = (
                        Arc::clone(&cache),
                        Arc::clone(&opened),
                        Arc::clone(&barrier),
                    );
                    std::thread::spawn(move || {
                        barrier.wait();
                        let open = || -> io::Result<Cursor<Vec<u8>>> {
                            opened.fetch_add(1, Ordering::SeqCst);
                            // Fail only once every other thread waits for this build.
                            until_waited_for(&cache, "pkg", threads - 1);
                            Err(io::Error::new(
                                io::ErrorKind::ConnectionRefused,
                                "the index is down",
                            ))
                        };
                        cache.unzip_stream_with("pkg", open, &StreamOptions::new())
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap())
                .collect::<Vec<_>>()
        }
    });
    assert_eq!(opened.load(Ordering::SeqCst), 1, "the opener ran once");
    let errors: Vec<Arc<UnzipError>> = answers
        .into_iter()
        .map(|(outcome, result)| {
            assert_eq!(outcome, Outcome::Failed);
            match result {
                Err(CacheError::Unzip(error)) => error,
                other => panic!("{other:?}"),
            }
        })
        .collect();
    match &*errors[0] {
        UnzipError::StreamRead { offset: 0, source } => {
            assert_eq!(source.kind(), io::ErrorKind::ConnectionRefused);
            assert_eq!(source.to_string(), "the index is down");
        }
        other => panic!("{other:?}"),
    }
    assert!(
        errors.iter().all(|e| Arc::ptr_eq(e, &errors[0])),
        "every waiter shares the owner's error"
    );
    assert_eq!(listing(cache.root()), Vec::<String>::new());
    assert_eq!(cache.stats().failures, 1);

    // Not remembered: the next request opens again, and builds.
    let (outcome, result) =
        cache.unzip_stream_with("pkg", || Ok(Cursor::new(bytes)), &StreamOptions::new());
    assert_eq!(outcome, Outcome::Built);
    assert_eq!(read_tree(&result.unwrap()), contents(5, 12));
    assert_eq!(listing(cache.root()), ["pkg"]);
    assert_eq!(cache.stats().extractions, 2);
}

#[test]
fn a_stream_that_ends_early_or_fails_half_way_leaves_nothing_in_the_root() {
    let dir = tempfile::tempdir().unwrap();
    // Large enough that its first blocks reach the walk (which sees the stream a
    // pool block, 64 KiB, at a time) before the earliest stop.
    let bytes = wheel(7, 600);
    let cd_start = bytes.windows(4).position(|w| w == b"PK\x01\x02").unwrap();
    assert!(cd_start / 2 > (64 << 10) + (8 << 10), "{cd_start}");
    let root = dir.path().join("cache");
    let cache = UnzipCache::new(&root);
    for stop in [
        Stop::End(cd_start / 2),
        Stop::End(cd_start + 20),
        Stop::Fail(cd_start / 2),
        Stop::Fail(bytes.len() - 4),
    ] {
        // What the root held when the stream stopped: the build's lock and staging
        // directory, files already written in it.
        let seen = Arc::new(std::sync::Mutex::new(None));
        let download = Download::stopping(bytes.clone(), stop, {
            let (seen, root) = (Arc::clone(&seen), root.clone());
            move || {
                let staged = found(&root.join(".pkg.staging")).len();
                *seen.lock().unwrap() = Some((listing(&root), staged));
            }
        });
        let (outcome, result) = within(secs(60), "a stream that stops", {
            let root = root.clone();
            move || {
                UnzipCache::new(root).unzip_stream_with(
                    "pkg",
                    || Ok(download),
                    &StreamOptions::new(),
                )
            }
        });
        assert_eq!(outcome, Outcome::Failed);
        let error = match result {
            Err(CacheError::Unzip(error)) => error,
            other => panic!("{stop:?}: {other:?}"),
        };
        match (stop, &*error) {
            (Stop::End(at), UnzipError::StreamEnded { offset }) => {
                assert_eq!(*offset, at as u64);
            }
            (Stop::Fail(at), UnzipError::StreamRead { offset, source }) => {
                assert_eq!(*offset, at as u64);
                assert_eq!(source.kind(), io::ErrorKind::ConnectionReset);
            }
            (stop, other) => panic!("{stop:?}: {other:?}"),
        }
        let (then, staged) = seen.lock().unwrap().take().expect("the stream stopped");
        assert_eq!(then, [".pkg.lock", ".pkg.staging"], "{stop:?}");
        assert!(staged > 0, "{stop:?}: nothing was written before the stop");
        assert_eq!(listing(&root), Vec::<String>::new(), "{stop:?}");
    }
    // The same id then builds from a whole stream.
    let path = cache
        .unzip_stream("pkg", || Ok(Cursor::new(bytes)))
        .unwrap();
    assert_eq!(read_tree(&path), contents(7, 600));
    assert_eq!(listing(&root), ["pkg"]);
}

#[test]
fn a_stream_that_panics_is_cleaned_up_and_a_waiting_request_builds_instead() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = wheel(8, 30);
    let cache = Arc::new(UnzipCache::new(dir.path().join("cache")));
    let opened = Arc::new(AtomicUsize::new(0));
    let (first, second) = within(secs(60), "a panicking stream with a waiter", {
        let (cache, opened) = (Arc::clone(&cache), Arc::clone(&opened));
        move || {
            let owner = {
                let (cache, opened, bytes) =
                    (Arc::clone(&cache), Arc::clone(&opened), bytes.clone());
                std::thread::spawn(move || {
                    let at = bytes.len() / 2;
                    let waited = Arc::clone(&cache);
                    cache.unzip_stream("pkg", move || {
                        opened.fetch_add(1, Ordering::SeqCst);
                        // Panic once the other request waits for this build.
                        Ok(Download::stopping(bytes, Stop::Panic(at), move || {
                            until_waited_for(&waited, "pkg", 1)
                        }))
                    })
                })
            };
            // The second request comes once the first owns the id.
            let deadline = Instant::now() + Duration::from_secs(30);
            while opened.load(Ordering::SeqCst) == 0 {
                assert!(Instant::now() < deadline, "the first request never opened");
                std::thread::sleep(Duration::from_millis(1));
            }
            let taken_over = cache.unzip_stream_with(
                "pkg",
                || {
                    opened.fetch_add(1, Ordering::SeqCst);
                    Ok(Cursor::new(bytes))
                },
                &StreamOptions::new(),
            );
            (owner.join(), taken_over)
        }
    });
    assert!(
        first.is_err(),
        "the panic reaches the request that owned the build"
    );
    let (outcome, result) = second;
    assert_eq!(outcome, Outcome::Built);
    assert_eq!(read_tree(&result.unwrap()), contents(8, 30));
    assert_eq!(opened.load(Ordering::SeqCst), 2);
    assert_eq!(listing(cache.root()), ["pkg"]);
}

#[test]
fn a_wrong_sha256_publishes_nothing_and_keeps_no_copy() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = wheel(9, 20);
    let kept_dir = dir.path().join("wheels");
    std::fs::create_dir(&kept_dir).unwrap();
    let kept = kept_dir.join("pkg-1.0-py3-none-any.whl");
    let root = dir.path().join("cache");
    let options = StreamOptions::new()
        .expect_sha256("ab".repeat(32))
        .keep_archive(&kept);
    let (outcome, result) = within(secs(60), "a wrong digest", {
        let (bytes, root) = (bytes.clone(), root.clone());
        move || {
            UnzipCache::new(root).unzip_stream_with("pkg", || Ok(Download::slow(bytes)), &options)
        }
    });
    assert_eq!(outcome, Outcome::Failed);
    match result {
        Err(CacheError::Unzip(error)) => match &*error {
            UnzipError::HashMismatch { expected, actual } => {
                assert_eq!(*expected, "ab".repeat(32));
                assert_eq!(*actual, sha256_hex(&bytes));
            }
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    }
    assert_eq!(listing(&root), Vec::<String>::new());
    assert_eq!(listing(&kept_dir), Vec::<String>::new(), "a copy was kept");
}

#[test]
fn the_right_sha256_publishes_and_keep_archive_keeps_the_wheel_s_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = wheel(10, 25);
    let kept_dir = dir.path().join("wheels");
    std::fs::create_dir(&kept_dir).unwrap();
    let kept = kept_dir.join("pkg-1.0-py3-none-any.whl");
    let cache = UnzipCache::new(dir.path().join("cache"));
    // The digest as a lock file may write it, in upper case.
    let options = StreamOptions::new()
        .expect_sha256(sha256_hex(&bytes).to_uppercase())
        .keep_archive(&kept);
    let (outcome, result) = within(secs(60), "a right digest", {
        let bytes = bytes.clone();
        move || cache.unzip_stream_with("pkg", || Ok(Download::slow(bytes)), &options)
    });
    assert_eq!(outcome, Outcome::Built);
    let path = result.unwrap();
    assert_eq!(path, dir.path().join("cache/pkg"));
    assert_eq!(read_tree(&path), contents(10, 25));
    assert_eq!(std::fs::read(&kept).unwrap(), bytes);
    assert_eq!(listing(&kept_dir), ["pkg-1.0-py3-none-any.whl"]);
    assert!(leftovers(&dir.path().join("cache")).is_empty());
}

#[test]
fn an_id_complete_on_disk_or_remembered_never_calls_the_opener() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("cache");
    std::fs::create_dir_all(root.join("done-1.0")).unwrap();
    std::fs::write(root.join("done-1.0/marker"), "built earlier").unwrap();
    let never = || -> io::Result<Cursor<Vec<u8>>> { panic!("the opener was called") };
    let cache = UnzipCache::new(&root);
    let (outcome, result) = cache.unzip_stream_with("done-1.0", never, &StreamOptions::new());
    assert_eq!(outcome, Outcome::FoundOnDisk);
    assert_eq!(result.unwrap(), root.join("done-1.0"));
    let (outcome, _) = cache.unzip_stream_with("done-1.0", never, &StreamOptions::new());
    assert_eq!(outcome, Outcome::Remembered);

    // Built by a stream: this cache remembers it, another (process) finds it.
    cache
        .unzip_stream("new-1.0", || Ok(Cursor::new(wheel(11, 5))))
        .unwrap();
    let (outcome, _) = cache.unzip_stream_with("new-1.0", never, &StreamOptions::new());
    assert_eq!(outcome, Outcome::Remembered);
    let other = UnzipCache::new(&root);
    let (outcome, result) = other.unzip_stream_with("new-1.0", never, &StreamOptions::new());
    assert_eq!(outcome, Outcome::FoundOnDisk);
    assert_eq!(read_tree(&result.unwrap()), contents(11, 5));
    assert_eq!(cache.stats().extractions, 1);
    assert_eq!(other.stats().extractions, 0);
}

#[test]
fn a_file_planted_at_the_id_while_the_stream_is_extracted_is_refused_not_served() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("cache");
    let cache = UnzipCache::new(&root);
    // Another program takes the name while the download runs: a file, where the
    // extracted directory belongs. Handing it out would give callers a file.
    let (outcome, result) = cache.unzip_stream_with(
        "pkg",
        || {
            std::fs::write(root.join("pkg"), "not a directory")?;
            Ok(Cursor::new(wheel(12, 3)))
        },
        &StreamOptions::new(),
    );
    assert_eq!(outcome, Outcome::Failed);
    assert!(
        matches!(
            &result,
            Err(CacheError::Fs(inflight::FsError::UnexpectedType {
                found: "file",
                ..
            }))
        ),
        "{result:?}"
    );
    // Left alone, and the extraction's staging directory is gone.
    assert_eq!(std::fs::read(root.join("pkg")).unwrap(), b"not a directory");
    assert_eq!(listing(&root), ["pkg"]);
}

#[test]
fn an_opener_asking_another_cache_on_the_root_for_its_own_id_gets_would_deadlock() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("cache");
    let (outer, inner) = within(secs(30), "an opener asking for its own id", {
        let root = root.clone();
        move || {
            let mut inner = None;
            let outer = UnzipCache::new(&root).unzip_stream("pkg", || {
                let other = UnzipCache::new(&root);
                inner = Some(other.unzip_stream("pkg", || Ok(Cursor::new(wheel(13, 2)))));
                Ok(Cursor::new(wheel(13, 2)))
            });
            (outer, inner.unwrap())
        }
    });
    assert!(
        matches!(
            inner,
            Err(CacheError::Wait(inflight::WaitError::WouldDeadlock))
        ),
        "{inner:?}"
    );
    assert_eq!(read_tree(&outer.unwrap()), contents(13, 2));
    assert_eq!(listing(&root), ["pkg"]);
}

#[test]
fn an_invalid_id_is_refused_without_calling_the_opener() {
    let dir = tempfile::tempdir().unwrap();
    let cache = UnzipCache::new(dir.path().join("cache"));
    let never = || -> io::Result<Cursor<Vec<u8>>> { panic!("the opener was called") };
    for id in ["../escape", ".hidden", "a/b", "CON", ""] {
        assert!(
            matches!(
                cache.unzip_stream(id, never),
                Err(CacheError::InvalidId { .. })
            ),
            "{id:?}"
        );
    }
    assert!(!dir.path().join("cache").exists() || listing(cache.root()).is_empty());
}

#[test]
fn a_request_answered_without_a_build_opens_nothing_so_checks_no_hash_and_keeps_no_copy() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = wheel(3, 4);
    let kept = dir.path().join("kept.whl");
    let cache = UnzipCache::new(dir.path().join("cache"));
    let hash = format!("{:x}", Sha256::digest(&bytes));
    let options = StreamOptions::new()
        .expect_sha256(&hash)
        .keep_archive(&kept);
    let (outcome, first) =
        cache.unzip_stream_with("pkg", || Ok(Cursor::new(bytes.clone())), &options);
    assert_eq!(outcome, Outcome::Built);
    assert_eq!(std::fs::read(&kept).unwrap(), bytes);
    // Remembered, then found on disk by another cache: neither opens the stream, so
    // a wrong hash and another copy's path change nothing.
    let other = dir.path().join("other.whl");
    let wrong = StreamOptions::new()
        .expect_sha256("00".repeat(32))
        .keep_archive(&other);
    let fresh = UnzipCache::new(dir.path().join("cache"));
    for (cache, expected) in [
        (&cache, Outcome::Remembered),
        (&fresh, Outcome::FoundOnDisk),
    ] {
        let (outcome, path) = cache.unzip_stream_with(
            "pkg",
            || -> io::Result<Cursor<Vec<u8>>> { panic!("opened without a build") },
            &wrong,
        );
        assert_eq!(outcome, expected);
        assert_eq!(path.unwrap(), *first.as_ref().unwrap());
        assert!(!other.exists(), "no copy without a stream");
    }
}

#[test]
fn a_copy_left_by_a_request_stopped_before_its_tree_does_not_block_the_id() {
    // The state a process killed between the copy's rename and the tree's leaves: the
    // copy in place, no entry. The next request builds the id and keeps that copy.
    let dir = tempfile::tempdir().unwrap();
    let bytes = wheel(4, 5);
    let kept = dir.path().join("pkg.whl");
    std::fs::write(&kept, &bytes).unwrap();
    let cache = UnzipCache::new(dir.path().join("cache"));
    let options = StreamOptions::new().keep_archive(&kept);
    let (outcome, path) =
        cache.unzip_stream_with("pkg", || Ok(Cursor::new(bytes.clone())), &options);
    assert_eq!(outcome, Outcome::Built);
    assert_eq!(read_tree(&path.unwrap()), contents(4, 5));
    assert_eq!(std::fs::read(&kept).unwrap(), bytes);
    assert_eq!(listing(dir.path()), ["cache", "pkg.whl"]);
}
