//! `DiskCache` across processes: several processes with several threads build each
//! id once; a build killed with SIGKILL is cleaned up and redone by the next request;
//! a stopped lock holder makes a waiting request fail at its timeout with a named
//! error, after reporting that it waits.
//!
//! The other processes are this test binary, started with `--ignored --exact
//! processes::child` and told what to do through the environment.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

use inflight::{CacheEvent, DiskCache, Outcome, Phase};

use super::common::{listing, read_tree, secs, within};

const MODE: &str = "INFLIGHT_TEST_PROCESS_MODE";
const ROOT: &str = "INFLIGHT_TEST_PROCESS_ROOT";
const LOG: &str = "INFLIGHT_TEST_PROCESS_LOG";
const GO: &str = "INFLIGHT_TEST_PROCESS_GO";
const IDS: usize = 6;
const THREADS: usize = 4;

/// A build that records itself in `log` (one line per build, appended whole) and
/// takes a little while, so that requests of the other process overlap it.
fn logged_build(log: &Path, id: &str) -> impl FnOnce(&Path) -> std::io::Result<()> {
    let (log, id) = (log.to_owned(), id.to_owned());
    move |staging: &Path| {
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(&log)?;
        file.write_all(format!("{id} {}\n", std::process::id()).as_bytes())?;
        std::thread::sleep(Duration::from_millis(30));
        std::fs::write(staging.join("built-by"), std::process::id().to_string())
    }
}

/// Not a test of its own: the other process of the tests below.
#[test]
#[ignore = "helper process, started by the tests of processes.rs"]
fn child() {
    let Some(mode) = std::env::var_os(MODE) else {
        return;
    };
    let var = |name| PathBuf::from(std::env::var_os(name).expect("set by the parent"));
    let root = var(ROOT);
    match mode.to_str().unwrap() {
        "race" => {
            let (log, go) = (var(LOG), var(GO));
            while !go.exists() {
                std::thread::sleep(Duration::from_millis(1));
            }
            let cache = Arc::new(DiskCache::new(&root));
            let handles: Vec<_> = (0..THREADS)
                .map(|t| {
                    let (cache, log) = (Arc::clone(&cache), log.clone());
                    std::thread::spawn(move || {
                        for i in 0..IDS {
                            let id = format!("id-{}", (i + t) % IDS);
                            let path = cache.get_or_build(&id, logged_build(&log, &id)).unwrap();
                            assert!(path.join("built-by").is_file());
                        }
                    })
                })
                .collect();
            for handle in handles {
                handle.join().unwrap();
            }
        }
        "hold" => {
            // Builds `held` and never finishes: the parent stops or kills this process.
            let marker = var(LOG);
            let _ = DiskCache::new(&root).get_or_build(
                "held",
                |staging: &Path| -> std::io::Result<()> {
                    std::fs::write(staging.join("half"), "written")?;
                    std::fs::write(&marker, "")?;
                    loop {
                        std::thread::sleep(Duration::from_secs(1));
                    }
                },
            );
            unreachable!("the build never ends");
        }
        other => panic!("unknown mode {other}"),
    }
}

fn spawn(mode: &str, root: &Path, log: &Path, go: &Path) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "processes::child",
            "--test-threads=1",
        ])
        .env(MODE, mode)
        .env(ROOT, root)
        .env(LOG, log)
        .env(GO, go)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap()
}

#[test]
fn two_processes_of_several_threads_build_each_id_once() {
    let dir = tempfile::tempdir().unwrap();
    let (root, log, go) = (
        dir.path().join("root"),
        dir.path().join("log"),
        dir.path().join("go"),
    );
    within(secs(120), "two processes", {
        let (root, log, go) = (root.clone(), log.clone(), go.clone());
        move || {
            let children = [
                spawn("race", &root, &log, &go),
                spawn("race", &root, &log, &go),
            ];
            std::fs::write(&go, "").unwrap();
            for mut child in children {
                assert!(child.wait().unwrap().success());
            }
        }
    });
    let log = std::fs::read_to_string(&log).unwrap();
    let mut built: Vec<&str> = log.lines().map(|l| l.split(' ').next().unwrap()).collect();
    built.sort_unstable();
    let expected: Vec<String> = (0..IDS).map(|i| format!("id-{i}")).collect();
    assert_eq!(built, expected, "each id built exactly once:\n{log}");
    assert_eq!(
        listing(&root),
        expected,
        "only complete entries in the root"
    );
}

/// Starts a child that builds `held` in `root` and stays in the build; returns once
/// the build has begun.
fn hold(root: &Path, dir: &Path) -> Child {
    let marker = dir.join("holding");
    let mut child = spawn("hold", root, &marker, &dir.join("unused"));
    let deadline = Instant::now() + Duration::from_secs(60);
    while !marker.exists() {
        assert!(child.try_wait().unwrap().is_none(), "the child ended early");
        assert!(
            Instant::now() < deadline,
            "the child never started its build"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    child
}

#[test]
fn a_build_killed_with_sigkill_is_cleaned_up_and_redone_by_the_next_request() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    within(secs(120), "kill -9 in the middle of a build", {
        let (root, dir) = (root.clone(), dir.path().to_owned());
        move || {
            let mut child = hold(&root, &dir);
            child.kill().unwrap(); // SIGKILL: no destructor, no cleanup
            child.wait().unwrap();
            assert_eq!(listing(&root), [".held.lock", ".held.staging"]);
            let cache = DiskCache::new(&root);
            let again = cache.resolve("held", |staging: &Path| {
                std::fs::write(staging.join("whole"), "ok")
            });
            assert_eq!(again.outcome, Outcome::Built);
        }
    });
    assert_eq!(listing(&root), ["held"]);
    assert_eq!(
        read_tree(&root.join("held")).keys().collect::<Vec<_>>(),
        ["whole"]
    );
}

#[test]
#[cfg_attr(not(unix), ignore = "stops the lock holder with SIGSTOP")]
fn a_stopped_lock_holder_makes_a_waiting_request_fail_at_its_timeout_with_a_named_error() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root");
    within(secs(120), "a stopped lock holder", {
        let (root, dir) = (root.clone(), dir.path().to_owned());
        move || {
            let mut child = hold(&root, &dir);
            let pid = child.id().to_string();
            let signal = |name: &str| {
                let status = Command::new("kill").args([name, &pid]).status().unwrap();
                assert!(status.success());
            };
            signal("-STOP");
            let events = Arc::new(Mutex::new(Vec::new()));
            let cache = Arc::new(
                DiskCache::new(&root)
                    .lock_timeout(Duration::from_millis(600))
                    .on_event({
                        let events = Arc::clone(&events);
                        move |event| events.lock().unwrap().push(event.clone())
                    }),
            );
            let started = Arc::new(Barrier::new(2));
            let waiter = {
                let (cache, started) = (Arc::clone(&cache), Arc::clone(&started));
                std::thread::spawn(move || {
                    started.wait();
                    let began = Instant::now();
                    let result = cache.get_or_build("held", |_: &Path| -> std::io::Result<()> {
                        panic!("the lock is held by the stopped process")
                    });
                    (result, began.elapsed())
                })
            };
            started.wait();
            // While it waits, the cache says so.
            let deadline = Instant::now() + Duration::from_secs(30);
            loop {
                let flying = cache.in_flight();
                if flying
                    .first()
                    .is_some_and(|b| b.phase == Phase::WaitingForProcess)
                {
                    break;
                }
                assert!(Instant::now() < deadline, "never seen waiting: {flying:?}");
                std::thread::yield_now();
            }
            let (result, waited) = waiter.join().unwrap();
            let error = result.unwrap_err();
            assert!(error.is_lock_timeout(), "{error:?}");
            assert!(error.to_string().contains(".held.lock"), "{error}");
            assert!(waited >= Duration::from_millis(600), "{waited:?}");
            assert!(matches!(
                &events.lock().unwrap()[..],
                [CacheEvent::WaitingForProcess { id, .. }, CacheEvent::Failed { .. }] if &**id == "held"
            ));
            // The stopped holder's build is untouched; once it is gone, the id builds.
            assert_eq!(listing(&root), [".held.lock", ".held.staging"]);
            signal("-KILL");
            child.wait().unwrap();
            let again = cache.resolve("held", |s: &Path| std::fs::write(s.join("whole"), "ok"));
            assert_eq!(again.outcome, Outcome::Built);
            assert_eq!(listing(&root), ["held"]);
        }
    });
}
