//! The build-once protocol of a cache entry (`src/fs/entry.rs`, the `DiskCache`'s),
//! run over a simulated directory (`inflight_shuttle_tests::simfs`) by processes that
//! may die before any of their operations, mid-build included, as a `SIGKILL` would
//! stop them, while others sweep what the dead left.

mod common;

use std::io;
use std::sync::Arc;
use std::time::Duration;

use inflight::FsError;
use inflight::model::Space;
use inflight::model::entry::{self, EntryError, Resolved, Shape};
use inflight::model::lock::{LockSpace, Wait};
use inflight_shuttle_tests::simfs::{self, Death, Look, Process, SimFs};
use shuttle::rand::{Rng, thread_rng};

/// The id every process asks for.
const ID: &str = "e";
/// The role of a running build.
const BUILD: &str = "build of e";

/// Why a build of the models failed.
#[derive(Debug)]
enum BuildError {
    /// On purpose: the build gave up, after removing what it staged.
    GaveUp,
    /// A directory operation failed (the process died, or the protocol is broken).
    Io(#[expect(dead_code, reason = "read by `Debug`, in a failure's message")] io::Error),
}

/// The build `get_or_build` runs: make the staging directory, fill it in two steps (a
/// death between them leaves it half-full), and publish it by a rename that never
/// replaces anything; or, if it `gives_up`, remove it after the first step, as
/// `Staging`'s drop does for a build that fails. No build may overlap another, and
/// none may start once the entry is there.
fn build(p: &Process, staging: &str, gives_up: bool) -> Result<(), EntryError<BuildError>> {
    p.enter(BUILD);
    let found = p.fs().look(ID);
    assert!(
        found == Look::Missing || p.is_dead(),
        "p{} builds {ID}, which is there already: {found:?}\n{}",
        p.pid(),
        p.fs().trace()
    );
    let built = (|| {
        p.make_dir(staging).map_err(BuildError::Io)?;
        p.write(staging, "a").map_err(BuildError::Io)?;
        if gives_up {
            p.remove_tree(staging).map_err(BuildError::Io)?;
            return Err(BuildError::GaveUp);
        }
        p.write(staging, "b").map_err(BuildError::Io)?;
        p.rename_noreplace(staging, ID).map_err(BuildError::Io)
    })();
    p.leave(BUILD);
    built.map_err(EntryError::Build)
}

/// Asks for the entry as `DiskCache` does, waiting for another process's build up to
/// `timeout`, and checks what it got: the complete entry, or (only if asked to) its
/// own build's failure or a timeout. `None` if it did not get the entry.
fn request(p: &Process, timeout: Option<Duration>, gives_up: bool) -> Option<Resolved> {
    let wait = Wait::Until(timeout.map(|timeout| p.now() + timeout));
    let resolved = match entry::get_or_build(
        p,
        ID,
        Shape::Dir,
        wait,
        || {},
        |staging| build(p, staging, gives_up),
    ) {
        Ok(resolved) => resolved,
        Err(EntryError::Build(BuildError::GaveUp)) if gives_up => {
            simfs::reached("a build gives up");
            return None;
        }
        Err(EntryError::Fs(FsError::LockTimeout { .. })) if timeout.is_some() => {
            simfs::reached("a request times out");
            return None;
        }
        Err(error) => {
            p.must_be_dead(&error);
            return None;
        }
    };
    if resolved.waited_for_process && !resolved.built {
        simfs::reached("a request waits for a build and finds the entry");
    }
    let found = p.fs().look(ID);
    assert!(
        matches!(&found, Look::Dir { files, .. } if files == &["a", "b"]),
        "p{} was answered {resolved:?}, and {ID} is {found:?}\n{}",
        p.pid(),
        p.fs().trace()
    );
    Some(resolved)
}

/// Sweeps `times` times, as `DiskCache::sweep` does, unless it dies.
fn sweeper(p: &Process, times: usize) {
    for _ in 0..times {
        if p.survives(entry::sweep(p)).is_none() {
            return;
        }
    }
}

/// After the others: a later process finds the entry (or builds it, if every builder
/// died or gave up), and its sweep removes what the dead left: only the entry stays.
fn survivor_finds_only_the_entry(fs: &Arc<SimFs>) {
    let survivor = fs.process(Death::Never);
    request(&survivor, None, false).expect("the survivor gets the entry");
    entry::sweep(&survivor).unwrap();
    drop(survivor);
    assert_eq!(fs.names(), [ID], "{}", fs.trace());
    assert_eq!(fs.open_handles(), 0);
}

#[test]
fn three_requesters_and_a_sweeper_that_may_die_build_the_entry_once_and_leave_only_it() {
    const REACHED: &[&str] = &[
        "a request waits for a build and finds the entry",
        "a process dies holding a lock",
        "a process dies leaving a directory it made",
        "a dead process's directory is removed",
        "a locker finds its lock file's name gone after locking",
    ];
    common::check_reaching(
        "fs entry: 3 requesters (some sweep first), 1 sweeper, deaths",
        REACHED,
        || {
            let fs = SimFs::new();
            let mut processes: Vec<_> = (0..3)
                .map(|_| {
                    fs.spawn(Death::Within(16), |p| {
                        // `DiskCache` sweeps the root before its first request.
                        if thread_rng().gen_bool(0.5) && p.survives(entry::sweep(p)).is_none() {
                            return;
                        }
                        request(p, None, false);
                    })
                })
                .collect();
            processes.push(fs.spawn(Death::Within(8), |p| sweeper(p, 2)));
            for process in processes {
                process.join().unwrap();
            }
            survivor_finds_only_the_entry(&fs);
        },
    );
}

#[test]
fn builds_that_give_up_and_a_waiter_that_times_out_leave_the_next_build_alone() {
    const REACHED: &[&str] = &[
        "a build gives up",
        "a request times out",
        "a request waits for a build and finds the entry",
        "a process dies holding a lock",
        "a dead process's directory is removed",
    ];
    common::check_reaching(
        "fs entry: 3 requesters (builds give up, a timeout), 1 sweeper, deaths",
        REACHED,
        || {
            let fs = SimFs::new();
            // Each build gives up with probability 1/2, so the lock often passes
            // between builders with no entry yet; one requester waits 2 ms at most.
            let mut processes: Vec<_> = [None, None, Some(Duration::from_millis(2))]
                .into_iter()
                .map(|timeout| {
                    fs.spawn(Death::Within(16), move |p| {
                        let gives_up = thread_rng().gen_bool(0.5);
                        request(p, timeout, gives_up);
                    })
                })
                .collect();
            processes.push(fs.spawn(Death::Within(12), |p| sweeper(p, 3)));
            for process in processes {
                process.join().unwrap();
            }
            survivor_finds_only_the_entry(&fs);
        },
    );
}
